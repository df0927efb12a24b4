"""Full-text search behind one interface (FTS5 on SQLite, tsvector on PostgreSQL)."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from portal.reports import listing
from tests.factories import file_report, tenant


def search(session, slug, query):
    f = listing.parse_filters(QueryParams(query))
    page = listing.fetch_page(session, tenant(session, slug), f)
    return sorted(i.description for i in page.issues)


def test_words_match_prefixes_and_every_word(world, session):
    file_report(session, "northside", 1.2, 1.0, description="Broken streetlight near the school")
    file_report(session, "northside", 1.3, 1.0, description="Deep pothole near the bakery")
    session.flush()
    assert search(session, "northside", "q=near") == [
        "Broken streetlight near the school", "Deep pothole near the bakery"]
    assert search(session, "northside", "q=pot") == ["Deep pothole near the bakery"]
    assert search(session, "northside", "q=pothole school") == []


def test_search_syntax_characters_are_just_words(world, session):
    file_report(session, "northside", 1.2, 1.0, description="Sign says \"STOP\" (bent)")
    session.flush()
    assert search(session, "northside", 'q="stop" (bent* -') == [
        'Sign says "STOP" (bent)']


def test_search_combines_words_status_type_and_place(world, session):
    file_report(session, "northside", 1.2, 1.0, description="pothole one")
    file_report(session, "northside", 2.8, 1.9, description="pothole two")
    session.flush()
    assert search(session, "northside", "q=pothole&near=2.8,1.9&radius=500") == ["pothole two"]
    assert search(session, "northside", "q=pothole&status=closed") == []
    assert search(session, "northside", "type=pothole&since=2000-01-01") == [
        "pothole one", "pothole two"]
