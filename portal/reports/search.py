"""Full-text search over issues behind one interface: FTS5 on SQLite, tsvector on PostgreSQL.

The index structures are created by the migrations (an FTS5 table on SQLite; a generated
`search_vector` column with a GIN index on PostgreSQL). `index_issue` keeps SQLite's table in
step on every write; PostgreSQL maintains its generated column itself.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Integer, Select, bindparam, column, text
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


def by_id_alone(session: Session) -> bool:
    """Whether `matching` needs only an issue id column (SQLite's index is a table of its own;
    PostgreSQL's is a column of `issues`, which the statement must then join)."""
    return is_sqlite(session)


def matching(session: Session, stmt: Select, query: str,
             issue_id: ColumnElement[int] | None = None) -> Select:
    """Narrow `stmt` to issues matching every word of `query`; `issue_id` is the statement's
    issue id column (`Issue.id` by default)."""
    words = terms(query)
    if not words:
        return stmt
    if is_sqlite(session):
        fts = " ".join(f'"{w}"*' for w in words)
        sub = text("SELECT rowid FROM issues_fts WHERE issues_fts MATCH :fts").bindparams(
            bindparam("fts", fts)
        )
        ids = issue_id if issue_id is not None else Issue.id
        return stmt.where(ids.in_(sub.columns(column("rowid", Integer))))
    tsq = " & ".join(f"{w}:*" for w in words)
    return stmt.where(
        text("issues.search_vector @@ to_tsquery('simple', :tsq)").bindparams(
            bindparam("tsq", tsq)
        )
    )
