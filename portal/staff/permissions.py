"""Who may do what: every staff page and action asks one of these functions, nothing else.

Roles (see `Role`):
- `staff` of a body: works that body's issues (status, notes, reassign, duplicates,
  redaction), sees their reporters' contact details, writes the body's announcements.
- `admin` of a portal: writes the portal's announcements and moderates it.
- `moderator` of a portal: hides and shows issues, comments and photos seen on it, redacts
  text there, and works its flag queue.
- `office` of a politician portal (its admins too): the constituent desk, every issue in the
  district with the reporters who let the office contact them, follow-ups and escalations.
- `operator`, held nowhere in particular (no portal, no body): runs the platform, creates
  portals and bodies at `/operator`. Granted only from the command line
  (`portal operators grant EMAIL`); being admin of every portal is not the same thing.

A person may hold any number of roles in any number of places; a role in one place grants
nothing anywhere else. `user` is None for anonymous visitors, and every function then says no.
"""

from __future__ import annotations

from portal.models import Issue, Tenant, User

STAFF = "staff"
ADMIN = "admin"
MODERATOR = "moderator"
OFFICE = "office"
POLITICIAN = "politician"  # the portal kind whose staff is a council member's office
BODY_ROLES = (STAFF,)
TENANT_ROLES = (ADMIN, MODERATOR, OFFICE)
ROLES = BODY_ROLES + TENANT_ROLES
OPERATOR = "operator"


def staff_body_ids(user: User | None) -> set[int]:
    """Bodies whose staff this person is."""
    if user is None:
        return set()
    return {r.body_id for r in user.roles if r.role == STAFF and r.body_id is not None}


def _tenant_roles(user: User | None, tenant: Tenant) -> set[str]:
    if user is None:
        return set()
    return {r.role for r in user.roles if r.tenant_id == tenant.id and r.body_id is None}


def has_any_role(user: User | None) -> bool:
    """Whether to offer the staff area at all (the pages still check what it holds)."""
    return user is not None and any(r.role in ROLES for r in user.roles)


def is_operator(user: User | None) -> bool:
    """A platform operator: the role held with neither portal nor body."""
    return user is not None and any(r.role == OPERATOR and r.tenant_id is None
                                    and r.body_id is None for r in user.roles)


def has_staff_area(user: User | None, tenant: Tenant) -> bool:
    """Whether this portal's staff area has anything for this person."""
    return bool(staff_body_ids(user)) or is_moderator(user, tenant) or is_office(user, tenant)


def is_body_staff(user: User | None, body_id: int) -> bool:
    return body_id in staff_body_ids(user)


def is_tenant_admin(user: User | None, tenant: Tenant) -> bool:
    return ADMIN in _tenant_roles(user, tenant)


def is_moderator(user: User | None, tenant: Tenant) -> bool:
    """Moderators moderate; so do the portal's admins (an admin is a superset)."""
    return bool(_tenant_roles(user, tenant) & {ADMIN, MODERATOR})


def is_office(user: User | None, tenant: Tenant) -> bool:
    """The constituent desk: the `office` role or an admin, on a politician portal only."""
    return tenant.kind == POLITICIAN and bool(_tenant_roles(user, tenant) & {ADMIN, OFFICE})


def can_manage_issue(user: User | None, issue: Issue) -> bool:
    """Change status, note, reassign, mark duplicate: the responsible body's staff only."""
    return is_body_staff(user, issue.body_id)


def can_merge(user: User | None, duplicate: Issue, original: Issue) -> bool:
    """Mark `duplicate` a duplicate of `original`: the merge moves votes and watchers onto
    `original` and closes `duplicate`, so the person must work both issues' bodies."""
    return can_manage_issue(user, duplicate) and can_manage_issue(user, original)


def can_see_contact(user: User | None, issue: Issue) -> bool:
    """Reporters' names and emails: only the responsible body's staff, never anyone else."""
    return can_manage_issue(user, issue)


def can_open_staff_issue(user: User | None, tenant: Tenant, issue: Issue) -> bool:
    """The staff view of an issue shown on `tenant`: its body's staff or the portal's moderators."""
    return can_manage_issue(user, issue) or is_moderator(user, tenant)


def can_redact(user: User | None, tenant: Tenant, issue: Issue) -> bool:
    return can_manage_issue(user, issue) or is_moderator(user, tenant)


def can_use_queue(user: User | None) -> bool:
    return bool(staff_body_ids(user))


def can_write_announcements(user: User | None, tenant: Tenant) -> bool:
    """For the portal (its admins) or for a body (its staff); see `announcement_authors`."""
    return is_tenant_admin(user, tenant) or bool(staff_body_ids(user))


def can_manage_announcement(user: User | None, tenant: Tenant, tenant_id: int | None,
                            body_id: int | None) -> bool:
    """A portal's announcement: that portal's admins; a body's: that body's staff."""
    if body_id is not None:
        return is_body_staff(user, body_id)
    return tenant_id == tenant.id and is_tenant_admin(user, tenant)
