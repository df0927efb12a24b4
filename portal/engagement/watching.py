"""Watch areas: residents get email (instant or a daily digest) and an Atom feed about a place.

A watch is a circle around a place, a route (a commute: a corridor of the portal or a line
drawn, buffered; see `route_watches`), the whole portal, or one issue. It needs no account:
`create_watch` writes it unconfirmed and mails a signed confirmation link (salt
`reportal.watch-confirm`, valid 7 days); only confirmed, not-ended watches ever get mail.

Hooks the rest of the product calls, each in the caller's transaction:

- `notify_new_issue(session, issue)` from `reporting.submit_report`;
- `notify_status_change(session, issue, update)` from the status-change path;
- `notify_announcement(session, announcement)` from `announcements.publish`;
- `cancel_announcement_mail(session, announcement)` when an announcement is withdrawn;
- `move_watchers(session, from_issue, to_issue)` when an issue is marked a duplicate;
- `compose_digests(session, day)` once a day (`portal digest`, and the worker).

Every message has an idempotency key naming the event and the watch (`watch-new:<watch>:
<issue>`, `watch-status:<watch>:<update>`, `watch-digest:<watch>:<day>` ...), so nothing is
written twice; one address with overlapping watches gets one copy per event. The reporter's
own address is skipped (they get the reporter's copy from `notifications`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from portal.core import geo, text_fields
from portal.core.errors import N_, DomainError, Message, NotFound, ValidationError
from portal.core.i18n import gettext as _
from portal.core.i18n import ngettext, use_locale
from portal.core.localized import localized
from portal.engagement import route_watches
from portal.mail.compose import PORTAL_URL
from portal.mail.outbox import enqueue
from portal.models import Issue, IssuePortal, Tenant, Watch, utcnow
from portal.reports import reporting
from portal.tenancy.scoping import get_public_issue

CONFIRM_SALT = "reportal.watch-confirm"
CONFIRM_MAX_AGE = 7 * 24 * 3600
RADII = (100, 250, 500, 1000, 2000, 5000)
MIN_RADIUS, MAX_RADIUS = 50.0, 5000.0
FREQUENCIES = ("instant", "daily")
KINDS = ("circle", "route", "portal", "issue")
AREA_KINDS = ("circle", "route", "portal")  # matched by place, not by issue
MAX_ACTIVE_PER_EMAIL = 25


class WatchLinkError(DomainError):
    pass


@dataclass
class WatchForm:
    """What a resident typed, as text."""

    email: str = ""
    kind: str = "circle"
    lat: str = ""
    lon: str = ""
    radius: str = "500"
    frequency: str = "instant"
    issue_id: str = ""
    locale: str = "en"
    corridor: str = ""  # a route watch: a corridor's key, or
    route_line: str = ""  # the line drawn on the map, as GeoJSON
    route_distance: str = "100"


# -- creating and confirming ----------------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=CONFIRM_SALT)


def confirm_token(secret_key: str, watch: Watch) -> str:
    return _serializer(secret_key).dumps([watch.id, watch.feed_token[:8]])


def _validate(session: Session, tenant: Tenant, form: WatchForm) -> tuple[dict, dict]:
    errors: dict[str, Message] = {}
    values: dict = {}
    email = text_fields.line(form.email).lower()
    if not email:
        errors["email"] = Message(N_("Enter your email address."))
    elif (problem := text_fields.email_problem(email)) is not None:
        errors["email"] = problem
    values["email"] = email
    if form.frequency not in FREQUENCIES:
        errors["frequency"] = Message(N_("Choose how often to get email."))
    kind = form.kind or "circle"
    if kind not in KINDS:
        errors["kind"] = Message(N_("Choose what to watch."))
    values["kind"] = kind
    if kind == "circle":
        lat, lon, point_errors = reporting.parse_point(form.lat, form.lon)
        errors.update(point_errors)
        if not point_errors:
            errors.update(reporting.check_place(tenant, lat, lon, form.locale))
        try:
            radius = float(form.radius)
        except ValueError:
            radius = -1.0
        if not MIN_RADIUS <= radius <= MAX_RADIUS:
            errors["radius"] = Message(
                N_("Choose a distance between %(min)s and %(max)s metres."),
                {"min": int(MIN_RADIUS), "max": int(MAX_RADIUS)})
        if not errors:
            values.update(lat=round(lat, 6), lon=round(lon, 6), radius_m=radius)
            circle = geo.circle(lat, lon, radius)
            values.update(zip(("min_lon", "min_lat", "max_lon", "max_lat"),
                              geo.bbox(circle), strict=True))
    elif kind == "route":
        route, route_errors = route_watches.parse(tenant, form.corridor, form.route_line,
                                                  form.route_distance)
        errors.update(route_errors)
        values.update(route)
    elif kind == "portal":
        values.update(min_lon=tenant.min_lon, min_lat=tenant.min_lat,
                      max_lon=tenant.max_lon, max_lat=tenant.max_lat)
    elif kind == "issue":
        issue = None
        if (issue_id := text_fields.record_number(form.issue_id)) is not None:
            try:
                issue = get_public_issue(session, tenant, issue_id)
            except NotFound:
                issue = None
        if issue is None:
            errors["issue"] = Message(N_("There is no such issue on this portal."))
        else:
            values.update(issue_id=issue.id, lat=issue.lat, lon=issue.lon,
                          min_lon=issue.lon, min_lat=issue.lat,
                          max_lon=issue.lon, max_lat=issue.lat)
    return values, errors


def create_watch(session: Session, tenant: Tenant, form: WatchForm,
                 secret_key: str) -> Watch:
    """Write an unconfirmed watch and mail its confirmation link; raises ValidationError.

    Asking again for the same watch reuses it (and sends the link again, at most once per
    ten minutes), so a double submit never makes two.
    """
    values, errors = _validate(session, tenant, form)
    if errors:
        raise ValidationError(errors)
    same = select(Watch).where(
        Watch.tenant_id == tenant.id, Watch.email == values["email"],
        Watch.kind == values["kind"], Watch.ended_at.is_(None),
        Watch.lat.is_(None) if values.get("lat") is None else Watch.lat == values["lat"],
        Watch.lon.is_(None) if values.get("lon") is None else Watch.lon == values["lon"],
        (Watch.radius_m.is_(None) if values.get("radius_m") is None
         else Watch.radius_m == values["radius_m"]),
        (Watch.issue_id.is_(None) if values.get("issue_id") is None
         else Watch.issue_id == values["issue_id"]),
        (Watch.area_geojson.is_(None) if values.get("area_geojson") is None
         else Watch.area_geojson == values["area_geojson"]),
    )
    watch = session.scalars(same).first()
    if watch is None:
        active = session.scalars(select(Watch.id).where(
            Watch.email == values["email"], Watch.ended_at.is_(None))).all()
        if len(active) >= MAX_ACTIVE_PER_EMAIL:
            raise ValidationError({"email": Message(
                N_("This address already has %(max)s watches. Stop one first."),
                {"max": MAX_ACTIVE_PER_EMAIL})})
        watch = Watch(tenant_id=tenant.id, locale=form.locale, frequency=form.frequency,
                      feed_token=secrets.token_urlsafe(24), **values)
        session.add(watch)
        session.flush()
    else:
        watch.frequency = form.frequency
        watch.locale = form.locale
    _mail_confirmation(session, tenant, watch, secret_key)
    session.flush()
    return watch


def _mail_confirmation(session: Session, tenant: Tenant, watch: Watch, secret_key: str) -> None:
    bucket = int(utcnow().timestamp() // 600)
    link = f"{PORTAL_URL}/watch/confirm/{confirm_token(secret_key, watch)}"
    with use_locale(watch.locale):
        portal = localized(tenant.name, watch.locale, tenant.default_language)
        subject = _("Confirm your watch on %(portal)s", portal=portal)
        body = "\n".join([
            _("Someone (we hope you) asked for email from %(portal)s about:", portal=portal),
            describe(watch, tenant),
            "",
            _("Open this link to confirm. Nothing is sent until you do:"),
            link,
            "",
            _("If you did not ask for this, ignore this email."),
        ])
    enqueue(session, key=f"watch-confirm:{watch.id}:{bucket}", kind="watch_confirm",
            recipient=watch.email, locale=watch.locale, subject=subject, body_text=body,
            tenant_id=tenant.id)


def read_confirm_token(session: Session, tenant: Tenant, token: str, secret_key: str) -> Watch:
    """The watch a confirmation link names (on this portal), or WatchLinkError."""
    try:
        watch_id, check = _serializer(secret_key).loads(token, max_age=CONFIRM_MAX_AGE)
    except (BadData, ValueError, TypeError):
        raise WatchLinkError(N_("This confirmation link is not valid or has expired. "
                                "Ask for a new one.")) from None
    watch = session.get(Watch, watch_id) if isinstance(watch_id, int) else None
    if watch is None or watch.tenant_id != tenant.id or watch.feed_token[:8] != check:
        raise WatchLinkError(N_("This confirmation link is not valid or has expired. "
                                "Ask for a new one."))
    if watch.ended_at is not None:
        raise WatchLinkError(N_("This watch was stopped. Ask for a new one."))
    return watch


def confirm_watch(session: Session, tenant: Tenant, token: str, secret_key: str) -> Watch:
    """Confirm the email of a watch (idempotent)."""
    watch = read_confirm_token(session, tenant, token, secret_key)
    if watch.confirmed_at is None:
        watch.confirmed_at = utcnow()
        session.flush()
    return watch


def active_by_feed_token(session: Session, tenant: Tenant, token: str) -> Watch | None:
    if not token or len(token) > 64:
        return None
    return session.scalars(select(Watch).where(
        Watch.feed_token == token, Watch.tenant_id == tenant.id,
        Watch.confirmed_at.is_not(None), Watch.ended_at.is_(None))).first()


# -- matching -------------------------------------------------------------------------------


def covers(watch: Watch, lat: float, lon: float) -> bool:
    """Does a (circle, route or portal) watch's area hold this point? Portal watches are
    matched by the issue's stored portal membership before this is asked."""
    if watch.kind == "circle":
        return geo.distance_m(watch.lat, watch.lon, lat, lon) <= (watch.radius_m or 0)
    if watch.kind == "route":
        return bool(watch.area_geojson) and geo.contains(watch.area_geojson, lat, lon)
    if watch.kind == "portal":
        return True
    return False


def bbox_of(watch: Watch) -> tuple[float, float, float, float]:
    return (watch.min_lon, watch.min_lat, watch.max_lon, watch.max_lat)


def active_watches():  # noqa: ANN202 - SQL expression
    return and_(Watch.confirmed_at.is_not(None), Watch.ended_at.is_(None))


def watches_for_issue(session: Session, issue: Issue, frequency: str | None = "instant",
                      include_issue_watches: bool = True) -> list[Watch]:
    """Active watches whose area holds the issue (and those following the issue itself)."""
    portals = select(IssuePortal.tenant_id).where(IssuePortal.issue_id == issue.id)
    area = and_(Watch.kind.in_(AREA_KINDS), Watch.tenant_id.in_(portals),
                Watch.min_lat <= issue.lat, Watch.max_lat >= issue.lat,
                Watch.min_lon <= issue.lon, Watch.max_lon >= issue.lon)
    which = or_(area, and_(Watch.kind == "issue", Watch.issue_id == issue.id)) \
        if include_issue_watches else area
    stmt = select(Watch).where(active_watches(), which).order_by(Watch.id)
    if frequency is not None:
        stmt = stmt.where(Watch.frequency == frequency)
    found = session.scalars(stmt).all()
    return [w for w in found if w.kind == "issue" or covers(w, issue.lat, issue.lon)]


def one_per_address(watches: list[Watch], skip: str = "") -> list[Watch]:
    seen = {skip.lower()} if skip else set()
    kept = []
    for watch in watches:
        if watch.email not in seen:
            seen.add(watch.email)
            kept.append(watch)
    return kept


# -- composing ------------------------------------------------------------------------------


def describe(watch: Watch, tenant: Tenant) -> str:
    """The watch in words, in the current language."""
    if watch.kind == "circle":
        radius = int(watch.radius_m or 0)
        return ngettext("Within %(radius)s metre of %(lat)s, %(lon)s",
                        "Within %(radius)s metres of %(lat)s, %(lon)s", radius,
                        radius=radius, lat=watch.lat, lon=watch.lon)
    if watch.kind == "issue":
        return _("Issue #%(id)s", id=watch.issue_id)
    if watch.kind == "route":
        return route_watches.describe(watch, tenant)
    area = localized(tenant.area_name, watch.locale, tenant.default_language) or localized(
        tenant.name, watch.locale, tenant.default_language)
    return _("All of %(area)s", area=area)


def issue_link(issue_id: int) -> str:
    return f"{PORTAL_URL}/issues/{issue_id}"


def move_watchers(session: Session, from_issue: Issue, to_issue: Issue) -> int:
    """Followers of a duplicate now follow the original (one watch per address kept)."""
    already = set(session.scalars(select(Watch.email).where(
        Watch.kind == "issue", Watch.issue_id == to_issue.id, Watch.ended_at.is_(None))))
    moved = 0
    for watch in session.scalars(select(Watch).where(
            Watch.kind == "issue", Watch.issue_id == from_issue.id, Watch.ended_at.is_(None))):
        if watch.email in already:
            watch.ended_at = utcnow()
            continue
        watch.issue_id = to_issue.id
        watch.lat, watch.lon = to_issue.lat, to_issue.lon
        watch.min_lat = watch.max_lat = to_issue.lat
        watch.min_lon = watch.max_lon = to_issue.lon
        already.add(watch.email)
        moved += 1
    session.flush()
    return moved


def stop_watch(session: Session, watch: Watch) -> None:
    session.execute(update(Watch).where(Watch.id == watch.id).values(ended_at=utcnow()))
