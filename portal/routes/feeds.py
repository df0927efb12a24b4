"""Atom feeds: the portal's new issues and status changes, and its announcements.

A watch's own feed lives with the watch routes and is built by `events_feed` here too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.i18n import gettext as _
from portal.core.localized import localized
from portal.engagement import feeds
from portal.models import utcnow
from portal.reports import activity as events
from portal.staff import announcements
from portal.web.absolute_urls import absolute
from portal.web.markdown_render import render_markdown
from portal.web.request_context import tenant
from portal.web.templating import url


def _authority(request: Request) -> str:
    return request.app.state.settings.base_domain


def _portal_name(request: Request) -> str:
    portal = tenant(request)
    return localized(portal.name, request.state.locale, portal.default_language)


def events_feed(request: Request, found: list[events.Event], *, title_suffix: str,
                self_path: str, feed_key: str, headers: dict | None = None) -> Response:
    """An Atom response for public events (call it while their session is open)."""
    portal = tenant(request)
    locale = request.state.locale
    entries = []
    for event in found:
        issue = event.issue
        type_name = localized(issue.request_type.name, locale, portal.default_language)
        name = issue.title or type_name
        link = absolute(request, url(request, "issue", issue_id=issue.id))
        if event.kind == "new":
            title = _("New: %(name)s", name=name)
            near = f" ({_('near %(place)s', place=issue.place_name)})" if issue.place_name else ""
            summary = f"{type_name}{near}. {issue.description}"
            category = "new"
        elif event.kind == "note":
            title = _("%(office)s followed up on %(name)s", office=event.update.author_name,
                      name=name)
            summary = event.update.text
            category = "follow-up"
        else:
            status = _(events.STATUS_LABELS.get(event.update.new_status or "", ""))
            title = _("%(name)s is now: %(status)s", name=name, status=status)
            summary = event.update.text or status
            category = event.update.new_status or "status"
        entries.append(feeds.Entry(
            id=feeds.tag_uri(_authority(request), f"{portal.slug}/{event.key}"),
            title=title, updated=event.at, link=link + ("" if event.kind == "new" else
                                                        "#history"),
            summary=summary, category=category, published=event.at))
    body = feeds.atom(
        feed_id=feeds.tag_uri(_authority(request), f"{portal.slug}/{feed_key}"),
        title=f"{_portal_name(request)}: {title_suffix}", self_url=absolute(request, self_path),
        alternate_url=absolute(request, url(request, "home")), author=_portal_name(request),
        entries=entries, updated=found[0].at if found else utcnow(), language=locale)
    return Response(body, media_type=feeds.MEDIA_TYPE, headers=headers or {
        "cache-control": "public, max-age=60"})


def portal_feed(request: Request) -> Response:
    with request.app.state.db.session() as session:
        found = events.recent(session, tenant(request), limit=50)
        return events_feed(request, found,
                           title_suffix=_("new issues, status changes and follow-ups"),
                           self_path=url(request, "feed"), feed_key="issues")


def announcements_feed(request: Request) -> Response:
    portal = tenant(request)
    locale = request.state.locale
    with request.app.state.db.session() as session:
        news = announcements.current_for_portal(session, portal, limit=50)
    home = absolute(request, url(request, "home"))
    entries = [feeds.Entry(
        id=feeds.tag_uri(_authority(request), f"announcements/{a.id}"),
        title=localized(a.title, locale, portal.default_language),
        updated=a.publish_at, published=a.publish_at, link=f"{home}#announcement-{a.id}",
        content_html=str(render_markdown(localized(a.body_md, locale, portal.default_language))),
    ) for a in news]
    body = feeds.atom(
        feed_id=feeds.tag_uri(_authority(request), f"{portal.slug}/announcements"),
        title=f"{_portal_name(request)}: {_('announcements')}",
        self_url=absolute(request, url(request, "announcements_feed")), alternate_url=home,
        author=_portal_name(request), entries=entries,
        updated=max((e.updated for e in entries), key=events.aware, default=utcnow()),
        language=locale)
    return Response(body, media_type=feeds.MEDIA_TYPE,
                    headers={"cache-control": "public, max-age=60"})


routes = [
    Route("/feed.atom", portal_feed, methods=["GET"], name="feed"),
    Route("/announcements.atom", announcements_feed, methods=["GET"], name="announcements_feed"),
]
