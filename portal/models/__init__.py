"""The database schema as SQLAlchemy 2 typed models, one module per part of the product.

`core` holds portals, bodies, issues and what every reader needs; `engagement` what residents
follow and earn; `accounts` who may do what, and the audit of it; `dashboard` the counters the
dashboard reads instead of the issues; `announcements` a portal's or body's news. Import
from here.
"""

from portal.models.accounts import (
    Flag,
    HiddenPhoto,
    IssueDuplicate,
    LoginToken,
    ModerationAction,
    PortalChange,
    Role,
    UpdateAuthor,
    User,
    UserSession,
)
from portal.models.announcements import Announcement, AnnouncementPortal
from portal.models.core import (
    STATUSES,
    Base,
    Body,
    Issue,
    IssueCell,
    IssueCellDeferral,
    IssuePortal,
    OutboxMessage,
    PortalDataVersion,
    RequestType,
    Tenant,
    TenantHost,
    Update,
    Vote,
    utcnow,
)
from portal.models.dashboard import (
    DashboardCount,
    DashboardDeferral,
    DashboardDuration,
    DashboardDurationBucket,
    DashboardWeek,
    DashboardWeekDuration,
)
from portal.models.engagement import Contribution, MailSuppression, PointAward, Watch
from portal.models.office import OfficeContact
from portal.models.open311 import Open311Key, Open311Request
from portal.models.places import PLACE_KINDS, Place, PlaceGram, PlaceTerm
from portal.models.rate_limits import RateLimitHit
from portal.models.replies import ResponseTemplate
from portal.models.settings_stamp import SettingsStamp
from portal.models.sms import SmsContact, SmsConversation, SmsInbound, SmsReport

__all__ = [
    'Announcement',
    'AnnouncementPortal',
    'Base',
    'Body',
    'Contribution',
    'DashboardCount',
    'DashboardDeferral',
    'DashboardDuration',
    'DashboardDurationBucket',
    'DashboardWeek',
    'DashboardWeekDuration',
    'Flag',
    'HiddenPhoto',
    'Issue',
    'IssueDuplicate',
    'IssueCell',
    'IssueCellDeferral',
    'IssuePortal',
    'LoginToken',
    'MailSuppression',
    'ModerationAction',
    'OfficeContact',
    'Open311Key',
    'Open311Request',
    'OutboxMessage',
    'PLACE_KINDS',
    'Place',
    'PlaceGram',
    'PlaceTerm',
    'PointAward',
    'PortalChange',
    'PortalDataVersion',
    'RateLimitHit',
    'RequestType',
    'ResponseTemplate',
    'SettingsStamp',
    'Role',
    'STATUSES',
    'SmsContact',
    'SmsConversation',
    'SmsInbound',
    'SmsReport',
    'Tenant',
    'TenantHost',
    'Update',
    'UpdateAuthor',
    'User',
    'UserSession',
    'Vote',
    'Watch',
    'utcnow',
]
