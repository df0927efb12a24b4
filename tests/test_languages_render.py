"""Every shipped language: pages render with the right lang/dir, translated navigation and
labels, localised dates; emails go out in the recipient's language; tenant content falls
back to the portal's default language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.core import i18n
from portal.core.i18n import SUPPORTED, use_locale
from portal.core.localized import localized
from portal.models import Body, OutboxMessage
from portal.web import formatting
from tests.conftest import client_for
from tests.factories import file_report, tenant


@pytest.fixture
def polyglot(app, world, db):
    """The northside portal offering every language we ship, with one issue."""
    with db.session() as s:
        tenant(s, "northside").languages = list(SUPPORTED)
        issue = file_report(s, "northside", 1.5, 1.0, title="Hole")
        issue_id, created = issue.id, issue.created_at
    app.state.tenants.clear()
    return client_for(app, "northside.reportal.test"), issue_id, created


def lang_dir(html: str) -> tuple[str, str]:
    m = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html)
    return m.group(1), m.group(2)


def translated(locale: str, msgid: str) -> str:
    with use_locale(locale):
        text = i18n.gettext(msgid)
    if locale != "en":  # in the compiled catalog (a cognate may equal the English)
        assert i18n.translations_for(locale)._catalog.get(msgid), f"{locale}: {msgid!r}"
    return text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_pages_in_every_language(polyglot, locale):
    client, issue_id, created = polyglot
    expected_dir = "rtl" if locale == "ar" else "ltr"
    pages = {path: client.get(path, params={"lang": locale}).text
             for path in ("/", "/report", f"/issues/{issue_id}", "/search", "/issues")}
    for path, html in pages.items():
        assert lang_dir(html) == (i18n.html_lang(locale), expected_dir), path
        for label in ("Report a problem", "Map", "Search"):
            assert translated(locale, label) in html, (path, label)
    assert translated(locale, "Description") in pages["/report"]
    assert translated(locale, "1. Where is the problem?") in pages["/report"]
    assert translated(locale, "I want this fixed too") in pages[f"/issues/{issue_id}"]
    with use_locale(locale):
        when = formatting.datetime_(created)
    assert str(when) in pages[f"/issues/{issue_id}"].replace("&#39;", "'")


def test_relative_times_and_numbers_follow_the_locale():
    from datetime import UTC, datetime, timedelta

    then = datetime.now(UTC) - timedelta(days=3)
    with use_locale("fr"):
        assert formatting.ago(then) == "il y a 3 jours"
        assert formatting.number(12345) == "12\u202f345"
    with use_locale("ar"):
        assert "3" in formatting.ago(then) or "٣" in formatting.ago(then)


def test_new_report_email_is_in_the_bodys_language(world, session):
    session.scalars(select(Body).where(Body.slug == "city-works")).one().language = "es"
    issue = file_report(session, "northside", 1.5, 1.0, title="Hoyo")
    mail = session.scalars(select(OutboxMessage)).one()
    assert mail.locale == "es"
    translated("es", "New report #%(id)s: %(type)s")
    with use_locale("es"):
        assert i18n.gettext("Request type: %(type)s", type="Bache") in mail.body_text
        assert mail.subject == i18n.gettext("New report #%(id)s: %(type)s", id=issue.id,
                                            type="Bache")


def test_tenant_content_falls_back_to_the_default_language():
    names = {"en": "Pothole", "es": "Bache"}
    assert localized(names, "es", "en") == "Bache"
    assert localized(names, "ko", "en") == "Pothole"  # a language added later never breaks
    assert localized(names, "es_MX", "en") == "Bache"
    assert localized({"fr": "Nid-de-poule"}, "en", "fr") == "Nid-de-poule"
    assert localized({}, "en") == ""


def test_adding_a_language_to_a_portal_later_never_breaks_it(app, world, db):
    with db.session() as s:
        tenant(s, "northside").languages = ["en", "es", "vi"]
    app.state.tenants.clear()
    html = client_for(app, "northside.reportal.test").get("/?lang=vi").text
    assert lang_dir(html) == ("vi", "ltr")
    assert "Northside Portal" in html  # no Vietnamese name: the default language's
