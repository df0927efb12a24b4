"""A portal's own gazetteer: its places, the index over their words, suggestions and reverse.

Every look-up reads an index, never all of a portal's places: a query's most selective word
is a range over `place_terms` (rank, then term: named areas first), capped at
`CANDIDATES` rows, and the other words are checked on those candidates only. A word found
nowhere is corrected through `place_grams` (trigrams of the portal's words) and the search
runs once more. "Chapel & College" is also looked up as two streets, whose address points'
nearest pair within `CROSSING_M` metres gives the corner. What a point is called (the other
way round) is `portal.places.point_names`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import shapely
from shapely.ops import nearest_points
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from portal.core import bulk, geo
from portal.core.localized import localized
from portal.models import Place, PlaceGram, PlaceTerm, Tenant
from portal.places import words

RANKS = {"area": 0, "landmark": 0, "intersection": 20, "address": 30, "reported": 40}
RANK_ORDER = sorted(set(RANKS.values()))
ZOOMS = {"area": 15, "landmark": 18, "intersection": 18, "address": 18, "reported": 18}
CANDIDATES = 3000  # index rows read per rank for the most selective word
COUNTED = 4000  # a word with fewer index rows than this at a rank is read whole (intersected)
CROSSING_M = 120.0  # two streets whose points come this close meet there
MAX_QUERY = 200


@dataclass(frozen=True)
class Suggestion:
    """One answer to a place search: what to show, where it is, how close to zoom."""

    label: str
    kind: str
    lat: float
    lon: float
    zoom: int
    source: str = "gazetteer"


@dataclass
class NewPlace:
    """A place to add: names per language (an address has one), a point, maybe an outline."""

    kind: str
    names: dict[str, str]
    lat: float
    lon: float
    area_geojson: str = ""
    street: str = ""
    issue_id: int | None = None
    population: int | None = None  # a named area's, from its tenant file


@dataclass
class _Token:
    alternatives: tuple[str, ...]
    prefix: bool
    corrected: bool = False
    counts: list[int] = field(default_factory=list)

    @property
    def drives(self) -> bool:
        """Whether this word can be read from the index (every form of it is indexed)."""
        return all(words.indexed(a) for a in self.alternatives)

    @property
    def key(self) -> tuple:
        return self.alternatives, self.prefix

    @property
    def whole_in_index(self) -> bool:
        """Whether the index holds every place this word matches: not so for a prefix that
        also starts a word left out of it ("r" of "Rd", which is indexed nowhere)."""
        return self.drives and not (self.prefix and any(
            w.startswith(a) for a in self.alternatives for w in words.UNINDEXED))


# ----------------------------------------------------------------------------- writing

def add_places(session: Session, tenant_id: int, places: list[NewPlace], source: str) -> int:
    """Add places and their index rows in a few statements; returns how many were added."""
    return add_places_of(session, {tenant_id: places}, source)


def add_places_of(session: Session, places: dict[int, list[NewPlace]], source: str) -> int:
    """`add_places` for several portals at once (portal id -> its new places), in one
    statement per table: an import's batch offers each address to every portal showing it.
    The words of a name offered to several portals are worked out once."""
    rows, keys = [], []
    worked: dict[tuple, tuple[str, str, set[str], set[str]]] = {}
    for tenant_id, new in places.items():
        for p in new:
            key = (tuple(p.names.items()), p.street)
            if key not in worked:
                names = [n for n in p.names.values() if n]
                whole = {w[:100] for name in names for w in words.match_words(name)
                         if words.indexed(w)}
                worked[key] = (words.search_key(names),
                               " ".join(words.match_words(p.street))[:200],
                               {t for w in whole for t in words.index_terms(w)}, whole)
            search_key, street_key, _terms, _whole = worked[key]
            bounds = geo.bbox(p.area_geojson) if p.area_geojson else (None, None, None, None)
            rows.append({
                "tenant_id": tenant_id, "kind": p.kind, "names": p.names,
                "search_key": search_key, "street_key": street_key,
                "lat": p.lat, "lon": p.lon, "area_geojson": p.area_geojson,
                "min_lon": bounds[0], "min_lat": bounds[1], "max_lon": bounds[2],
                "max_lat": bounds[3], "source": source, "issue_id": p.issue_id,
                "rank": RANKS[p.kind], "population": p.population,
            })
            keys.append(key)
    if not rows:
        return 0
    # One statement per table (COPY on PostgreSQL, an executemany on SQLite): a bulk import
    # adds thousands per batch.
    ids = bulk.insert_new(session, Place.__table__, rows)
    terms: list[dict] = []
    vocabulary: set[tuple[int, str]] = set()
    for place_id, row, key in zip(ids, rows, keys, strict=True):
        mine = worked[key][2]
        # Misspellings are corrected to whole words, not to the endings of unspaced ones.
        vocabulary |= {(row["tenant_id"], t) for t in worked[key][3]}
        terms.extend({"tenant_id": row["tenant_id"], "rank": row["rank"], "term": t,
                      "place_id": place_id} for t in mine)
    bulk.insert_rows(session, PlaceTerm.__table__, terms)
    # Grams only for the words new to their portal: an import's batches repeat most of their
    # words (street names, house numbers), and writing every gram again only to skip it as
    # there already was most of the cost of adding a batch's places. A word's grams go in
    # together, so its first one there says all are.
    new = sorted(vocabulary - _known_words(session, vocabulary))
    grams = [{"tenant_id": tenant_id, "gram": g, "term": t}
             for tenant_id, t in new for g in sorted(words.grams(t))]
    # Another writer may have added the same word meanwhile: a gram row is a fact, not a count.
    bulk.insert_rows(session, PlaceGram.__table__, grams, skip_conflicts=True)
    return len(ids)


def _known_words(session: Session, vocabulary: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (portal, word) pairs whose grams are there already, in one statement."""
    firsts = {(tenant_id, _first_gram(t), t): (tenant_id, t) for tenant_id, t in vocabulary}
    return {firsts[key] for key in bulk.present(session, PlaceGram.__table__, list(firsts))}


def _first_gram(word: str) -> str:
    """The gram every word has (`words.grams`): its start, marked."""
    return f"${word}$"[:3]


def remove_source(session: Session, tenant_id: int, source: str) -> int:
    """Remove one source's places (a re-import replaces, never doubles); returns how many."""
    ids = select(Place.id).where(Place.tenant_id == tenant_id, Place.source == source)
    session.execute(delete(PlaceTerm).where(PlaceTerm.place_id.in_(ids)))
    return session.execute(delete(Place).where(
        Place.tenant_id == tenant_id, Place.source == source)).rowcount or 0


def place_count(session: Session, tenant_id: int, kind: str | None = None) -> int:
    query = select(func.count()).select_from(Place).where(Place.tenant_id == tenant_id)
    if kind:
        query = query.where(Place.kind == kind)
    return session.scalar(query) or 0


# ----------------------------------------------------------------------------- searching

def _tokens(query: str) -> list[list[_Token]]:
    """The query's words, split at "&"/"and"/"at" into the streets of an intersection.

    The last word is a prefix while the resident is still typing it (no space after it), and
    matches both as typed and written out ("s" is the start of "street", not only "south").
    """
    raw = words.raw_words(query[:MAX_QUERY])
    still_typing = bool(raw) and not query[:MAX_QUERY][-1:].isspace()
    groups: list[list[_Token]] = [[]]
    for i, word in enumerate(raw):
        form = words.canonical(word)
        if form in words.SEPARATORS:
            groups.append([])
            continue
        if form in words.STOPWORDS:
            continue
        # A word written without spaces is matched from its start wherever it is in a name.
        prefix = (still_typing and i == len(raw) - 1) or words.unspaced(form)
        forms = (form, word) if prefix and form != word else (form,)
        groups[-1].append(_Token(forms, prefix))
    return [g for g in groups if g]


class _Sql:
    """Bound parameters for one statement, named as they are added."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}

    def bind(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def _term_range(sql: _Sql, token: _Token) -> str:
    parts = []
    for a in token.alternatives:
        if token.prefix:
            upper = a[:-1] + chr(ord(a[-1]) + 1)
            parts.append(f"(term >= {sql.bind(a)} AND term < {sql.bind(upper)})")
        else:
            parts.append(f"term = {sql.bind(a)}")
    return "(" + " OR ".join(parts) + ")"


def _word_check(sql: _Sql, token: _Token) -> str:
    """A candidate's key holds the word (or, while typed, a word starting with it); a word
    written without spaces, anywhere inside one."""
    parts = [f"p.search_key LIKE {sql.bind(_pattern(a, token.prefix))}"
             for a in token.alternatives]
    return "(" + " OR ".join(parts) + ")"


def _pattern(word: str, prefix: bool) -> str:
    if words.unspaced(word):
        return f"%{word}%"
    return f"% {word}%" if prefix else f"% {word} %"


# Statements are text, not ORM expressions: a suggestion is a few small indexed reads, and
# building SQLAlchemy expressions for them cost more than running them.
_PLACE_COLUMNS = (Place.id, Place.kind, Place.names, Place.lat, Place.lon, Place.search_key,
                  Place.street_key)


def _counts(session: Session, tenant_id: int, drivers: list[_Token],
            memo: dict) -> dict[tuple[int, int], int]:
    """How many index rows (capped) each word has at each rank: one statement for the words
    not counted yet in this suggestion (`memo`: "X & Y" counts its words once, not again
    for each street)."""
    todo = [t for t in drivers if ("n", t.key) not in memo]
    if todo:
        sql = _Sql()
        tenant = sql.bind(tenant_id)
        parts = []
        for i, token in enumerate(todo):
            for rank in RANK_ORDER:
                parts.append(
                    f"SELECT {i} AS token, {rank} AS rank, (SELECT count(*) FROM (SELECT 1 "
                    f"FROM place_terms WHERE tenant_id = {tenant} AND rank = {rank} AND "
                    f"{_term_range(sql, token)} LIMIT {COUNTED}) AS c{i}_{rank}) AS n")
        for i, rank, n in session.execute(text(" UNION ALL ".join(parts)), sql.params):
            memo.setdefault(("n", todo[i].key), {})[rank] = n
    return {(i, rank): memo[("n", t.key)][rank] for i, t in enumerate(drivers)
            for rank in RANK_ORDER}


def _candidates(session: Session, tenant_id: int, tokens: list[_Token], limit: int,
                memo: dict, ranks: tuple[int, ...] = tuple(RANK_ORDER)) -> list:
    """Places at `ranks` whose names hold every word, best ranks first.

    Words with fewer than `COUNTED` index rows at a rank are intersected in the index
    (index-only reads, then only the places in all of them are fetched); when every word
    has more, the rarest one's first `CANDIDATES` places are fetched and checked.
    """
    found: list = []
    drivers = [t for t in tokens if t.drives]
    for t in tokens:
        t.counts = []
    if not drivers:
        return found
    counts = _counts(session, tenant_id, drivers, memo)
    for rank in RANK_ORDER:
        for i, token in enumerate(drivers):
            token.counts.append(counts[(i, rank)])
        best_count, best = min((counts[(i, rank)], i) for i in range(len(drivers)))
        if not best_count or rank not in ranks:
            continue
        sql = _Sql()
        tenant = sql.bind(tenant_id)
        whole = [t for i, t in enumerate(drivers)
                 if counts[(i, rank)] < COUNTED and t.whole_in_index]
        read = whole or [drivers[best]]
        ids = " INTERSECT ".join(
            f"SELECT place_id FROM place_terms WHERE tenant_id = {tenant} AND rank = {rank} "
            f"AND {_term_range(sql, t)}" for t in read)
        if not whole:
            ids += f" LIMIT {CANDIDATES}"
        checks = "".join(f" AND {_word_check(sql, t)}" for t in tokens if t not in read)
        statement = (
            "SELECT p.id, p.kind, p.names, p.lat, p.lon, p.search_key, p.street_key "
            f"FROM places p WHERE p.id IN ({ids}){checks} AND (p.issue_id IS NULL OR "
            "NOT EXISTS (SELECT 1 FROM issues i WHERE i.id = p.issue_id AND i.hidden = TRUE)) "
            f"LIMIT {limit * 4}")
        found.extend(session.execute(text(statement).columns(*_PLACE_COLUMNS), sql.params))
        if len(found) >= limit * 4:
            break
    return found


def _correct(session: Session, tenant_id: int, token: _Token) -> _Token | None:
    """The nearest words the portal has to a word it has not ("Chapple" → "chapel")."""
    typed = token.alternatives[0]
    if len(typed) < 3 or typed.isdigit():
        return None
    limit = 1 if len(typed) <= 4 else 2
    grams = sorted(words.grams(typed))
    shared = func.count().label("shared")
    rows = session.execute(
        select(PlaceGram.term, shared).where(PlaceGram.tenant_id == tenant_id,
                                             PlaceGram.gram.in_(grams))
        .group_by(PlaceGram.term).order_by(shared.desc()).limit(60)).all()
    shared_by = {term: n for term, n in rows}
    scored = []
    for term in [*shared_by, *sorted(words.STREET_TYPES)]:
        distance = words.edit_distance(typed, term, limit)
        if token.prefix and len(term) > len(typed):  # still typing: compare the start
            distance = min(distance, words.edit_distance(typed, term[:len(typed)], limit))
        if distance <= limit:
            scored.append((distance, -shared_by.get(term, 0), len(term), term))
    if not scored:
        return None
    scored.sort()
    best = [item for item in scored if item[0] == scored[0][0]][:3]
    return _Token(tuple(item[3] for item in best), token.prefix, corrected=True)


def place_label(place, tenant: Tenant, locale: str) -> str:  # noqa: ANN001 - a place row
    return localized(place.names, locale, tenant.default_language)


def _score(place, tokens: list[_Token]) -> tuple:  # noqa: ANN001 - a place row
    """Named areas first; then a name that is exactly the query, one that starts with it,
    more whole words matched, shorter names."""
    key = place.search_key
    names = [part.strip() for part in key.split("|")]
    exact = any(" ".join(forms) in names for forms in
                [[t.alternatives[0] for t in tokens], [t.alternatives[-1] for t in tokens]])
    whole = sum(1 for t in tokens for a in t.alternatives if f" {a} " in key)
    starts = any(key.startswith(f" {a}") or f"| {a}" in key
                 for a in tokens[0].alternatives) if tokens else False
    return (RANKS.get(place.kind, 50), not exact, not starts, -whole, len(key))


def _search_words(session: Session, tenant: Tenant, tokens: list[_Token], limit: int,
                  memo: dict, ranks: tuple[int, ...] = tuple(RANK_ORDER)) -> list:
    """`memo` remembers each word's counts and correction for one suggestion: "Chapple &
    Colege" is searched whole and then street by street, and each word is read once."""
    found = _candidates(session, tenant.id, tokens, limit, memo, ranks)
    if not found:
        # A word the index leaves out (a street type: "St", "Avenue") is a known word, never
        # one to correct: only indexed words found nowhere are.
        unmatched = [i for i, t in enumerate(tokens) if t.drives and not any(t.counts)]
        changed = False
        for i in unmatched:
            key = ("fix", tokens[i].key)
            if key not in memo:
                memo[key] = _correct(session, tenant.id, tokens[i])
            if (better := memo[key]) is not None:
                tokens[i] = better
                changed = True
        if changed:
            found = _candidates(session, tenant.id, tokens, limit, memo, ranks)
    found.sort(key=lambda p: _score(p, tokens))
    return found


def _streets(session: Session, tenant: Tenant, tokens: list[_Token],
             memo: dict) -> list[str]:
    """The street keys of address points matching one side of "X & Y"."""
    streets: list[str] = []
    for place in _search_words(session, tenant, tokens, 10, memo):
        if place.kind == "address" and place.street_key and place.street_key not in streets:
            streets.append(place.street_key)
    return streets[:4]


def _street_label(session: Session, tenant_id: int, street_key: str) -> str:
    name = session.scalar(select(Place.names).where(
        Place.tenant_id == tenant_id, Place.street_key == street_key).limit(1)) or {}
    text = next(iter(name.values()), street_key)
    first, _, rest = text.partition(" ")
    return rest if rest and any(c.isdigit() for c in first) else text


def _street_points(session: Session, tenant: Tenant,
                   streets: list[str]) -> dict[str, list[tuple[float, float]]]:
    """The address points of each street, in one statement for all of them."""
    points: dict[str, list[tuple[float, float]]] = {street: [] for street in streets}
    if streets:
        for street, lat, lon in session.execute(
                select(Place.street_key, Place.lat, Place.lon).where(
                    Place.tenant_id == tenant.id, Place.street_key.in_(streets))
                .limit(5000 * len(streets))):
            points[street].append((lat, lon))
    return points


def _crossing(a: list[tuple[float, float]],
              b: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Where two streets meet: the middle of their nearest pair of address points."""
    if not a or not b:
        return None
    # Longitude degrees shrink away from the equator: compare in (near) metres.
    scale = math.cos(math.radians(a[0][0]))
    pa, pb = nearest_points(shapely.MultiPoint([(lon * scale, lat) for lat, lon in a]),
                            shapely.MultiPoint([(lon * scale, lat) for lat, lon in b]))
    lat_a, lon_a, lat_b, lon_b = pa.y, pa.x / scale, pb.y, pb.x / scale
    if geo.distance_m(lat_a, lon_a, lat_b, lon_b) > CROSSING_M:
        return None
    return (lat_a + lat_b) / 2, (lon_a + lon_b) / 2


def _intersections(session: Session, tenant: Tenant, groups: list[list[_Token]],
                   limit: int, memo: dict) -> list[Suggestion]:
    if len(groups) != 2:
        return []
    left, right = (_streets(session, tenant, g, memo) for g in groups)
    found: list[Suggestion] = []
    points = _street_points(session, tenant, sorted(set(left) | set(right)))
    for a in left:
        for b in right:
            if a == b or len(found) >= limit:
                continue
            point = _crossing(points[a], points[b])
            if point is None:
                continue
            label = (f"{_street_label(session, tenant.id, a)} & "
                     f"{_street_label(session, tenant.id, b)}")
            found.append(Suggestion(label, "intersection", round(point[0], 7),
                                    round(point[1], 7), ZOOMS["intersection"]))
    return found


def suggest(session: Session, tenant: Tenant, query: str, locale: str,
            limit: int = 8) -> list[Suggestion]:
    """Places of the portal matching what was typed, best first, inside the portal's area."""
    groups = _tokens(query)
    if not groups:
        return []
    everything = [t for g in groups for t in g]
    results: list[Suggestion] = []
    seen: set[tuple[str, float, float]] = set()

    def keep(s: Suggestion) -> None:
        key = (s.label.casefold(), round(s.lat, 4), round(s.lon, 4))
        if key not in seen and len(results) < limit and geo.contains(
                tenant.area_geojson, s.lat, s.lon):
            seen.add(key)
            results.append(s)

    memo: dict = {}
    # "X & Y" whole is a named place (a landmark, a named corner): no one address holds the
    # words of two streets, and reading the address ranks for them finds nothing, slowly.
    ranks = (RANKS["area"], RANKS["intersection"]) if len(groups) == 2 else tuple(RANK_ORDER)
    places = _search_words(session, tenant, everything, limit, memo, ranks)
    named = [p for p in places if p.kind in ("area", "landmark", "intersection")]
    for place in named:
        keep(Suggestion(place_label(place, tenant, locale), place.kind, place.lat, place.lon,
                        ZOOMS[place.kind]))
    for s in _intersections(session, tenant, groups, limit, memo):
        keep(s)
    for place in places:
        if place not in named:
            keep(Suggestion(place_label(place, tenant, locale), place.kind, place.lat, place.lon,
                            ZOOMS[place.kind]))
    return results
