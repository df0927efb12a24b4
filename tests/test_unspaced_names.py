"""Place names written without spaces (Chinese, Japanese, Korean) are found by any part of
them, as "Library" finds "City Library": a resident types "图书馆" and gets "市立图书馆"."""

from __future__ import annotations

import unicodedata

from alembic import command
from sqlalchemy import create_engine, select, text

from portal.core.migrate import config, upgrade
from portal.models import PlaceTerm
from portal.places import gazetteer, words
from portal.places.gazetteer import NewPlace
from tests.factories import tenant
from tests.test_places_migration import _fresh_url

LIBRARY = {"en": "City Library", "zh_Hans": "市立图书馆", "ko": "시립도서관"}
HALL = {"en": "City Hall", "zh_Hans": "市政厅", "ko": "서울시청"}


def _labels(db, query: str, locale: str) -> list[str]:  # noqa: ANN001
    with db.session() as s:
        return [x.label for x in gazetteer.suggest(s, tenant(s, "northside"), query, locale)]


def test_a_word_without_spaces_is_indexed_from_every_letter():
    assert words.index_terms("市立图书馆") == ["市立图书馆", "立图书馆", "图书馆", "书馆", "馆"]
    assert words.index_terms("library") == ["library"]
    assert len(words.index_terms("图" * 40)) == words.MAX_UNSPACED
    # Korean folds to letters (jamo): its endings start at a syllable, never inside one.
    endings = words.index_terms(words.match_words("서울시청")[0])
    composed = [unicodedata.normalize("NFC", e) for e in endings]
    assert composed == ["서울시청", "울시청", "시청", "청"]


def test_any_part_of_a_chinese_or_korean_name_finds_it(db, world):
    with db.session() as s:
        gazetteer.add_places(s, tenant(s, "northside").id, [
            NewPlace("landmark", LIBRARY, 2.0, 1.0), NewPlace("landmark", HALL, 2.1, 1.1)],
            "test")
    for query in ("图书馆", "图书", "书馆 ", "市立图书馆"):
        assert _labels(db, query, "zh_Hans")[:1] == ["市立图书馆"], query
    assert _labels(db, "政厅", "zh_Hans")[:1] == ["市政厅"]
    assert _labels(db, "시청", "ko")[:1] == ["서울시청"]
    assert _labels(db, "도서관", "ko")[:1] == ["시립도서관"]
    assert _labels(db, "Library", "zh_Hans")[:1] == ["市立图书馆"]  # and the others still
    assert _labels(db, "图书馆", "en")[:1] == ["City Library"]  # shown in the reader's
    assert _labels(db, "火车站", "zh_Hans") == []  # a name nowhere is still nothing


def test_the_migration_gives_places_already_there_their_endings_and_takes_them_back(tmp_path):
    url = _fresh_url(tmp_path)
    upgrade(url)
    command.downgrade(config(url), "0028_importspeed3")
    engine = create_engine(url)
    with engine.begin() as c:  # a place indexed as before: its whole words only
        c.execute(text("INSERT INTO tenants (id, slug, kind, name, area_name, default_language,"
                       " languages, theme, tokens, logo_svg, tile_url, tile_attribution,"
                       " allow_anonymous, embed_origins, admin_token_hash, geocoder,"
                       " sms_numbers, time_zone, corridors, area_geojson, min_lon, min_lat,"
                       " max_lon, max_lat) VALUES (1, 'p', 'city', '{}', '{}', 'en', '[]',"
                       " 'civic', '{}', '', '', '', true, '[]', '', '{}', '[]', 'UTC', '[]',"
                       " '{}', 0, 0, 1, 1)"))
        c.execute(text("INSERT INTO places (id, tenant_id, kind, names, search_key, street_key,"
                       " lat, lon, area_geojson, source, rank) VALUES (1, 1, 'landmark', '{}',"
                       " ' 市立图书馆 ', '', 0.5, 0.5, '', 'test', 0)"))
        for term in ("市立图书馆", "library"):
            c.execute(text("INSERT INTO place_terms (tenant_id, rank, term, place_id) VALUES "
                           "(1, 0, :t, 1)"), {"t": term})
    engine.dispose()

    def terms() -> set[str]:
        e = create_engine(url)
        with e.connect() as c:
            found = set(c.scalars(select(PlaceTerm.term)))
        e.dispose()
        return found

    upgrade(url)
    assert terms() == {"市立图书馆", "立图书馆", "图书馆", "书馆", "馆", "library"}
    command.downgrade(config(url), "0028_importspeed3")
    assert terms() == {"市立图书馆", "library"}
