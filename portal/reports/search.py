"""Full-text search over issues behind one interface: FTS5 on SQLite, tsvector on PostgreSQL.

The index structures are created by the migrations (an FTS5 table on SQLite; a generated
`search_vector` column with a GIN index on PostgreSQL). `index_issue` keeps SQLite's table in
step on every write; PostgreSQL maintains its generated column itself.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, Integer, Select, bindparam, column, table, text
from sqlalchemy.orm import Session

from portal.core.db import is_sqlite
from portal.models import Issue

WORD = re.compile(r"\w+", re.UNICODE)


def terms(query: str) -> list[str]:
    return WORD.findall(query.lower())[:12]


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
        session.execute(text("INSERT OR IGNORE INTO search_terms (term) VALUES (:w)"),
                        [{"w": w} for w in sorted(words)])


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
    session.execute(
        text("INSERT INTO issues_fts(rowid, title, description) VALUES (:id, :t, :d)"),
        [{"id": i.id, "t": i.title, "d": i.description} for i in issues],
    )
    _remember_words(session, issues)


MAX_ALTERNATIVES = 32  # whole words tried for one prefix; past that, FTS5's own prefix query
_FTS = table("issues_fts", column("rowid", Integer))


def _fts_query(session: Session, words: list[str]) -> str:
    """Every word, each as itself or any whole word it begins (FTS5 syntax)."""
    parts = []
    for typed in words:
        folded = _words(typed)
        word = folded[0] if folded else typed
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
             issue_id: ColumnElement[int] | None = None) -> Select:
    """Narrow `stmt` to issues matching every word of `query` (each also as the start of a
    longer word); `issue_id` is the statement's issue id column (`Issue.id` by default)."""
    words = terms(query)
    if not words:
        return stmt
    if is_sqlite(session):
        ids = issue_id if issue_id is not None else Issue.id
        return stmt.join(_FTS, _FTS.c.rowid == ids).where(
            text("issues_fts MATCH :fts").bindparams(bindparam("fts", _fts_query(session,
                                                                                  words))))
    tsq = " & ".join(f"{w}:*" for w in words)
    return stmt.where(
        text("issues.search_vector @@ to_tsquery('simple', :tsq)").bindparams(
            bindparam("tsq", tsq)
        )
    )


def newest_first(session: Session, issue_id: ColumnElement[int]) -> ColumnElement[int]:
    """The column to order a `matching` statement by, newest issue number first: on SQLite
    the index's own rowid, which FTS5 walks in that order and stops when the page is full."""
    return _FTS.c.rowid if is_sqlite(session) else issue_id
