"""Full-text search over issues behind one interface: FTS5 on SQLite, tsvector on PostgreSQL.

The index structures are created by the migrations (an FTS5 table on SQLite; a generated
`search_vector` column with a GIN index on PostgreSQL). `index_issue` keeps SQLite's table in
step on every write; PostgreSQL maintains its generated column itself.

An issue is also found by its request type's name, in every language the type is named in:
many reports have no title and are listed under the type's name ("Pothole"), so a search
for "pothole" must find them whatever their description says. The names are few (a few
dozen per body), so they are matched when a search is made, not copied into every issue's
index entry: a renamed type is found by its new name at once, and no write path (filing,
imports, reassigning) has to keep a copy in step. Words are stemmed (Snowball) in the
portal's languages, so "potholes" finds "Pothole" and "baches" "Bache".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from portal.core import bulk
from portal.core.db import is_sqlite
from portal.models import Issue, RequestType

WORD = re.compile(r"\w+", re.UNICODE)


def terms(query: str) -> list[str]:
    return WORD.findall(query.lower())[:12]


# Our locales and the Snowball stemmer of each; a language without one is matched unstemmed.
STEMMERS = {"en": "english", "es": "spanish", "fr": "french", "pt_BR": "portuguese",
            "ru": "russian", "ar": "arabic"}


@lru_cache(maxsize=16)
def _stemmer(locale: str):  # noqa: ANN202 - a snowballstemmer object
    name = STEMMERS.get(locale)
    return snowballstemmer.stemmer(name) if name else None


def stem(word: str, locale: str) -> str:
    """The word's stem in that language (itself where we have no stemmer)."""
    stemmer = _stemmer(locale)
    return stemmer.stemWord(word) if stemmer else word


def search_prefix(word: str, languages: Iterable[str]) -> str:
    """What a typed word is looked up as, a prefix of indexed words: its shortest stem in
    the portal's languages that begins it ("potholes" → "pothol", which also begins
    "pothole"), else the word itself. A stem that is not a beginning of the word
    ("happy" → "happi") would miss the word itself, so it is not used."""
    best = word
    for locale in languages:
        candidate = stem(word, locale)
        if 3 <= len(candidate) < len(best) and word.startswith(candidate):
            best = candidate
    return best


def name_matches(word: str, names: dict[str, str]) -> bool:
    """Whether a (folded) search word finds a request type by any of its names: as the
    beginning of a word of the name, or with the same stem in the name's language."""
    for locale, name in names.items():
        for part in _words(name or ""):
            if part.startswith(word):
                return True
            if len(word) >= 3 and stem(part, locale) == stem(word, locale):
                return True
    return False


def kinds_matching(session: Session, query: str) -> list[set[int]]:
    """For each word of the query, the ids of the request types whose names it finds."""
    words = [(_words(w) or [w])[0] for w in terms(query)]
    if not words:
        return []
    names = session.execute(select(RequestType.id, RequestType.name)).all()
    return [{type_id for type_id, name in names if name_matches(word, name or {})}
            for word in words]


def index_issue(session: Session, issue: Issue) -> None:
    if not is_sqlite(session):
        return
    session.execute(text("DELETE FROM issues_fts WHERE rowid = :id"), {"id": issue.id})
    session.execute(
        text("INSERT INTO issues_fts(rowid, title, description) VALUES (:id, :t, :d)"),
        {"id": issue.id, "t": issue.title, "d": issue.description},
    )
    _remember_words(session, [issue])


def _remember_words(session: Session, issues: list[Issue]) -> None:
    """Add the issues' words to `search_terms` (SQLite), where prefixes are looked up.

    Lower-cased and stripped of accents much as FTS5's unicode61 tokenizer does; a word kept
    in another form still finds the right issues, because each is searched for as a phrase
    and FTS5 tokenizes that the same way as the text. Words are never taken out: one no issue
    has any more only adds an empty alternative to a search."""
    words = {w for issue in issues for field in (issue.title, issue.description) if field
             for w in _words(field)}
    if words:
        bulk.sqlite_many(session, "INSERT OR IGNORE INTO search_terms (term) VALUES (?)",
                         [(w,) for w in sorted(words)])


def _words(value: str) -> list[str]:
    if value.isascii():  # nothing to decompose or strip: the same words, without the walk
        return WORD.findall(value.lower())
    folded = unicodedata.normalize("NFKD", value.lower())
    return WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


def by_id_alone(session: Session) -> bool:
    """Whether `matching` needs only an issue id column (SQLite's index is a table of its own;
    PostgreSQL's is a column of `issues`, which the statement must then join)."""
    return is_sqlite(session)


def index_issues(session: Session, issues: list[Issue]) -> None:
    """`index_issue` for a batch of new issues, in one statement (imports)."""
    if not is_sqlite(session) or not issues:
        return
    # Straight on the driver: SQLAlchemy's executemany builds each row's parameters in Python.
    bulk.sqlite_many(session,
                     "INSERT INTO issues_fts(rowid, title, description) VALUES (?, ?, ?)",
                     [(i.id, i.title, i.description) for i in issues])
    _remember_words(session, issues)


MAX_ALTERNATIVES = 32  # whole words tried for one prefix; past that, FTS5's own prefix query
_FTS = table("issues_fts", column("rowid", Integer))


def _fts_query(session: Session, words: list[str], languages: Iterable[str] = ()) -> str:
    """Every word, each as itself or any whole word its stem begins (FTS5 syntax)."""
    parts = []
    for typed in words:
        folded = _words(typed)
        word = search_prefix(folded[0] if folded else typed, languages)
        found = list(session.scalars(
            text("SELECT term FROM search_terms WHERE term >= :low AND term < :high "
                 "ORDER BY term LIMIT :n"),
            {"low": word, "high": word + "\U0010ffff", "n": MAX_ALTERNATIVES + 1}))
        if len(found) > MAX_ALTERNATIVES:
            parts.append(f'"{word}"*')
        else:
            parts.append("(" + " OR ".join(f'"{w}"' for w in found or [word]) + ")")
    return " AND ".join(parts)


def matching(session: Session, stmt: Select, query: str,
             issue_id: ColumnElement[int] | None = None, *,
             languages: Iterable[str] = (), kinds: list[set[int]] | None = None,
             request_type_id: ColumnElement[int] | None = None) -> Select:
    """Narrow `stmt` to issues matching every word of `query` (each also as the start of a
    longer word, stemmed in `languages`); `issue_id` is the statement's issue id column
    (`Issue.id` by default).

    With `kinds` (from `kinds_matching`) and the statement's `request_type_id` column, a
    word is also matched by the issue's request type's names. Then each word is its own
    condition, so "pothole elm" finds a pothole report whose text says "Elm Street"."""
    words = terms(query)
    if not words:
        return stmt
    languages = tuple(languages)
    ids = issue_id if issue_id is not None else Issue.id
    if kinds and any(kinds) and request_type_id is not None:
        conditions = []
        for n, word in enumerate(words):
            if is_sqlite(session):
                in_text = ids.in_(select(_FTS.c.rowid).where(
                    text(f"issues_fts MATCH :fts{n}").bindparams(
                        bindparam(f"fts{n}", _fts_query(session, [word], languages)))))
            else:
                in_text = text(f"issues.search_vector @@ to_tsquery('simple', :tsq{n})"
                               ).bindparams(bindparam(f"tsq{n}", _tsquery([word], languages)))
            conditions.append(or_(in_text, request_type_id.in_(sorted(kinds[n])))
                              if kinds[n] else in_text)
        return stmt.where(and_(*conditions))
    if is_sqlite(session):
        return stmt.join(_FTS, _FTS.c.rowid == ids).where(
            text("issues_fts MATCH :fts").bindparams(bindparam("fts", _fts_query(
                session, words, languages))))
    return stmt.where(
        text("issues.search_vector @@ to_tsquery('simple', :tsq)").bindparams(
            bindparam("tsq", _tsquery(words, languages))
        )
    )


def _tsquery(words: list[str], languages: Iterable[str]) -> str:
    # The words are \w+ runs (`terms`), so nothing in them is tsquery syntax.
    return " & ".join(f"{search_prefix(w, languages)}:*" for w in words)


def newest_first(session: Session, issue_id: ColumnElement[int],
                 kinds: list[set[int]] | None = None) -> ColumnElement[int]:
    """The column to order a `matching` statement by, newest issue number first: on SQLite
    the index's own rowid, which FTS5 walks in that order and stops when the page is full
    (when request type names matched too, the index is a condition, not a join: the id)."""
    if kinds and any(kinds):
        return issue_id
    return _FTS.c.rowid if is_sqlite(session) else issue_id
