"""Full-text search behind one interface (FTS5 on SQLite, tsvector on PostgreSQL)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import QueryParams

from portal.reports import listing
from tests.factories import file_report, tenant


def search(session, slug, query):
    f = listing.parse_filters(QueryParams(query))
    page = listing.fetch_page(session, tenant(session, slug), f)
    return sorted(i.description for i in page.issues)


def test_words_match_prefixes_and_every_word(world, session):
    file_report(session, "northside", 1.2, 1.0, description="Broken streetlight near the school",
                request_type="streetlight")
    file_report(session, "northside", 1.3, 1.0, description="Deep pothole near the bakery")
    session.flush()
    assert search(session, "northside", "q=near") == [
        "Broken streetlight near the school", "Deep pothole near the bakery"]
    assert search(session, "northside", "q=pot") == ["Deep pothole near the bakery"]
    assert search(session, "northside", "q=pothole school") == []


def test_every_word_may_be_the_start_of_a_longer_one(world, session):
    file_report(session, "northside", 1.2, 1.0, description="Deep pothole near the Café Olé")
    file_report(session, "northside", 1.3, 1.0, description="Potted plants blocking the path")
    session.flush()
    assert search(session, "northside", "q=dee pot") == ["Deep pothole near the Café Olé"]
    assert search(session, "northside", "q=café ol") == ["Deep pothole near the Café Olé"]
    assert len(search(session, "northside", "q=pot")) == 2
    if session.get_bind().dialect.name == "sqlite":  # PostgreSQL's 'simple' keeps accents
        assert search(session, "northside", "q=cafe") == ["Deep pothole near the Café Olé"]


def test_a_prefix_of_many_words_still_finds_them_all(world, session):
    from portal.reports import search as search_module

    for n in range(search_module.MAX_ALTERNATIVES + 3):
        file_report(session, "northside", 1.2, 1.0, description=f"zebra{n:02d} crossing faded")
    session.flush()
    assert len(search(session, "northside", "q=zebra&per_page=100")) == \
        search_module.MAX_ALTERNATIVES + 3


def test_search_results_come_newest_first_and_page_on(world, session):
    ids = [file_report(session, "northside", 1.2, 1.0, description=f"graffiti wall {n}").id
           for n in range(5)]
    session.flush()
    f = listing.parse_filters(QueryParams("q=graffiti&per_page=2"))
    first = listing.fetch_page(session, tenant(session, "northside"), f)
    assert [i.id for i in first.issues] == ids[::-1][:2]
    f = listing.parse_filters(QueryParams(f"q=graffiti&per_page=2&after={quote(first.after)}"))
    second = listing.fetch_page(session, tenant(session, "northside"), f)
    assert [i.id for i in second.issues] == ids[::-1][2:4]
    f = listing.parse_filters(QueryParams(f"q=graffiti&per_page=2&before={quote(second.before)}"))
    back = listing.fetch_page(session, tenant(session, "northside"), f)
    assert [i.id for i in back.issues] == ids[::-1][:2]


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


def test_an_issue_is_found_by_its_request_types_name_in_any_language_and_stemmed(world, session):
    # Listed under its type's name ("Pothole"), though its text never says so.
    file_report(session, "northside", 1.2, 1.0, description="Big hole by the bus stop")
    file_report(session, "northside", 1.3, 1.0, description="Dark corner by the park",
                request_type="streetlight")
    file_report(session, "northside", 1.4, 1.0, description="Two potholes on Elm",
                request_type="streetlight")
    session.flush()
    assert search(session, "northside", "q=pothole") == [
        "Big hole by the bus stop", "Two potholes on Elm"]
    assert search(session, "northside", "q=Potholes") == [  # stemmed: pothol*
        "Big hole by the bus stop", "Two potholes on Elm"]
    assert search(session, "northside", "q=bache") == ["Big hole by the bus stop"]  # Spanish
    assert search(session, "northside", "q=streetlights") == [
        "Dark corner by the park", "Two potholes on Elm"]
    # Every word must still match, each in the text or the type's name.
    assert search(session, "northside", "q=streetlight park") == ["Dark corner by the park"]
    assert search(session, "northside", "q=pothole park") == []
    # Newest first and by pages, as any other search.
    f = listing.parse_filters(QueryParams("q=pothole&per_page=1"))
    first = listing.fetch_page(session, tenant(session, "northside"), f)
    assert [i.description for i in first.issues] == ["Two potholes on Elm"]
    f = listing.parse_filters(QueryParams(f"q=pothole&per_page=1&after={quote(first.after)}"))
    assert [i.description for i in listing.fetch_page(
        session, tenant(session, "northside"), f).issues] == ["Big hole by the bus stop"]


def test_stems_are_used_only_where_they_begin_the_word():
    from portal.reports import search as search_module

    assert search_module.search_prefix("potholes", ["en"]) == "pothol"
    assert search_module.search_prefix("happy", ["en"]) == "happy"  # stem "happi"
    assert search_module.search_prefix("potholes", ["zh_Hans"]) == "potholes"
    assert search_module.name_matches("baches", {"es": "Bache"})
    assert not search_module.name_matches("bach", {"en": "Graffiti"})
