"""Choosing the language: explicit choice, then cookie, then Accept-Language, within the
portal's languages, then its default; never a 404 or 500 for a bad value."""

from __future__ import annotations

import re

import pytest

from portal.core.i18n import negotiate, normalise, parse_accept_language
from tests.conftest import client_for

OFFERED = ["en", "ar", "fr"]


@pytest.mark.parametrize("tag,expected", [
    ("es", "es"), ("ES", "es"), ("pt-BR", "pt_BR"), ("pt", "pt_BR"), ("zh-CN", "zh_Hans"),
    ("zh-Hans", "zh_Hans"), ("zh-TW", None), ("fr-CA", "fr"), ("xx", None), ("", None),
    ("<script>", None), ("en;drop table", None), ("a" * 200, None),
])
def test_normalise(tag, expected):
    assert normalise(tag) == expected


def test_accept_language_weights_are_respected():
    assert parse_accept_language("fr;q=0.5, ar;q=0.9, en;q=0.1") == ["ar", "fr", "en"]
    assert parse_accept_language("de, *;q=0.5, xx;q=0") == ["de"]
    assert negotiate(OFFERED, "en", accept_language=";;;,q=,fr;q=abc") == "en"


def test_order_explicit_cookie_header_default():
    assert negotiate(OFFERED, "en", "fr", "ar", "ar") == "fr"
    assert negotiate(OFFERED, "en", None, "ar", "fr") == "ar"
    assert negotiate(OFFERED, "en", None, None, "de, fr;q=0.8") == "fr"
    assert negotiate(OFFERED, "en", "es", "ko", "de") == "en"


def html_lang_dir(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html)
    return match.group(1), match.group(2)


def test_query_parameter_sets_language_and_remembers_it(app, world):
    client = client_for(app, "riverside.reportal.test")
    r = client.get("/?lang=ar")
    assert html_lang_dir(r.text) == ("ar", "rtl")
    assert "lang=ar" in r.headers["set-cookie"]
    assert html_lang_dir(client.get("/").text) == ("ar", "rtl")  # the cookie now speaks


def test_accept_language_is_used_when_nothing_else_is(app, world):
    client = client_for(app, "riverside.reportal.test")
    r = client.get("/", headers={"accept-language": "de-DE, fr;q=0.7, ar;q=0.3"})
    assert html_lang_dir(r.text) == ("fr", "ltr")


@pytest.mark.parametrize("value", ["es", "xx", "<b>", "zh-TW", "", "%00", "ar" * 50])
def test_a_language_the_portal_does_not_offer_falls_back_gracefully(app, world, value):
    client = client_for(app, "northside.reportal.test")  # offers en and es only
    r = client.get("/issues", params={"lang": value})
    assert r.status_code == 200
    assert html_lang_dir(r.text)[0] in ("en", "es")


def test_a_portal_limited_to_two_languages_offers_only_those(app, world):
    client = client_for(app, "northside.reportal.test")
    html = client.get("/", headers={"accept-language": "ar"}).text
    assert html_lang_dir(html) == ("en", "ltr")
    switcher = re.findall(r'hreflang="([^"]+)"', html)
    assert switcher == ["en", "es"]


def test_switcher_keeps_the_page_and_its_filters(app, world):
    html = client_for(app, "northside.reportal.test").get("/issues?status=open").text
    assert 'href="/issues?status=open&amp;lang=es"' in html


def test_malformed_cookie_and_header_do_not_break_pages(app, world):
    client = client_for(app, "northside.reportal.test")
    r = client.get("/", headers={"cookie": "lang=\x7f;;; =", "accept-language": "q=;;,"})
    assert r.status_code == 200
