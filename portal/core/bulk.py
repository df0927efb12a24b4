"""Many new rows at once on PostgreSQL: COPY, and primary keys reserved ahead.

Why: an executemany through psycopg sends one Bind/Execute per row, and a multi-row INSERT
(SQLAlchemy's "insertmanyvalues", which RETURNING needs) makes psycopg parse a statement of
thousands of placeholders in Python every batch. Both cost the importer more client CPU per
row than all of its own reading and checking. COPY sends the rows as one stream that the
server parses in C; the rows' triggers and constraints run as for any INSERT, so every count
the triggers keep stays exact. Ids are taken from the table's own sequence first
(`reserve_ids`), so the rows can carry them and nothing needs RETURNING.

COPY bypasses the session: no ORM event sees it. A caller writing a table whose rows public
pages show bumps the portals' data versions itself (`portal.tenancy.data_version.bump`).

On SQLite the same calls (`insert_rows`, `insert_new`) run one executemany straight on the
driver's cursor: SQLAlchemy's executemany builds and processes every row's parameters in
Python, which costs more than SQLite's own work of inserting them. The values still go
through each column's own bind processor (dates, JSON), so the stored text is the same.
New rows' ids are then read off the last one: within the statement the writer holds
SQLite's write lock, and each new row gets the id after the largest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from operator import itemgetter

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from portal.core.db import is_sqlite


def _driver(session: Session):  # noqa: ANN202 - the psycopg connection under the session
    return session.connection().connection.driver_connection


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` new primary keys of `table` from its sequence, in increasing order: rows
    written with them later never collide with rows others write meanwhile."""
    if count <= 0:
        return []
    (key,) = table.primary_key.columns
    return list(session.scalars(text(
        "SELECT nextval(pg_get_serial_sequence(:table, :column)) "
        "FROM generate_series(1, :n) ORDER BY 1"),
        {"table": table.name, "column": key.name, "n": count}))


def _columns(table: Table, rows: Sequence[dict]) -> tuple[list[str], list]:
    """The rows' columns, then those they leave out that have a Python-side default (COPY
    applies only the server's defaults): (names, one value or None per added column)."""
    given = list(rows[0])
    filled = []
    for column in table.columns:
        if column.name in given or column.default is None or column.computed is not None:
            continue
        default = column.default
        if default.is_scalar:
            filled.append((column.name, default.arg))
        elif default.is_callable:
            filled.append((column.name, default.arg(None)))
    return given + [name for name, _ in filled], [value for _, value in filled]


# Ids per `one_of` in a batch's statements: one parameter however many, so as many as an
# import's batch holds.
IDS_PER_STATEMENT = 1000


def one_of(session: Session, column: ColumnElement, values: Sequence) -> ColumnElement[bool]:
    """`column IN (values)`, with one parameter, not one per value, so a batch's statements
    are the same text every batch, compiled by SQLAlchemy (and parsed by psycopg) once: a
    thousand placeholders cost milliseconds of Python each time. On PostgreSQL
    `column = ANY(:array)`; on SQLite `column IN (SELECT value FROM json_each(:list))`, which
    SQLite answers through the column's index as it does a list. Values are numbers or
    text (JSON has no dates).

    Whole numbers that fill a range (a batch's new ids, as a rule) are that range, which
    needs no list at all. Other whole numbers are also bounded by their least and greatest
    on PostgreSQL (the same rows): an array parameter tells the planner nothing of where its
    values lie, and for a batch's ids, a few per cent of a table still small, it chose to
    read the whole table rather than the index; a range it can estimate."""
    whole = bool(values) and all(isinstance(v, int) for v in values)
    if whole:
        low, high = min(values), max(values)
        if high - low + 1 == len(set(values)):
            return column.between(low, high)
    if is_sqlite(session):
        listed = bindparam(None, json.dumps(list(values)), type_=String())
        return column.in_(select(func.json_each(listed).table_valued("value").c.value))
    matched = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return and_(column.between(low, high), matched) if whole else matched


def present(session: Session, table: Table, keys: Sequence[tuple]) -> set[tuple]:
    """Which of `keys` (values of `table`'s whole primary key, in its order) are rows of
    `table` already, in one statement however many, each a look-up in the key's index."""
    if not keys:
        return set()
    names = [c.name for c in table.primary_key.columns]
    listed = ", ".join(f'"{n}"' for n in names)
    if is_sqlite(session):
        # A join, the keys first (SQLite keeps a CROSS JOIN's order): a row-value IN over
        # json_each would use the index's first column only.
        columns = ", ".join(f't."{n}"' for n in names)
        matched = " AND ".join(f"""t."{n}" = json_extract(k.value, '$[{i}]')"""
                               for i, n in enumerate(names))
        statement = text(f'SELECT {columns} FROM json_each(:keys) AS k '
                         f'CROSS JOIN "{table.name}" AS t WHERE {matched}')
        rows = session.execute(statement, {"keys": json.dumps([list(k) for k in keys])})
    else:
        arrays = [bindparam(f"k{i}", [k[i] for k in keys], type_=ARRAY(table.c[n].type))
                  for i, n in enumerate(names)]
        marks = ", ".join(f":k{i}" for i in range(len(names)))
        statement = text(f'SELECT {listed} FROM "{table.name}" WHERE ({listed}) IN '
                         f"(SELECT * FROM unnest({marks}))").bindparams(*arrays)
        rows = session.execute(statement)
    return {tuple(row) for row in rows}


def copy_rows(session: Session, table: Table, rows: Sequence[dict], *,
              skip_conflicts: bool = False) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in one COPY, inside the session's
    transaction. `skip_conflicts`: rows whose key is there already are left out, as INSERT …
    ON CONFLICT DO NOTHING does (through a temporary table, in key order, so two writers
    cannot deadlock on the same keys)."""
    if not rows:
        return
    session.flush()  # the ORM's pending rows go first, as they would for an INSERT
    names, filled = _columns(table, rows)
    # COPY's text format reads a JSON column from its text.
    json_columns = {n for n in names if isinstance(table.c[n].type, JSON)}
    filled = [json.dumps(v) if n in json_columns else v
              for n, v in zip(names[len(names) - len(filled):], filled, strict=True)]
    target = table.name
    if skip_conflicts:
        target = f"bulk_{table.name}"
        session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {target} "
                             f"(LIKE {table.name}) ON COMMIT DROP"))
    listed = ", ".join(f'"{n}"' for n in names)
    given = names[:len(names) - len(filled)]
    with _driver(session).cursor() as cursor, \
            cursor.copy(f"COPY {target} ({listed}) FROM STDIN") as copy:
        values = itemgetter(*given)
        as_json = [i for i, n in enumerate(given) if n in json_columns]
        for row in rows:
            out = [*values(row), *filled] if len(given) > 1 else [values(row), *filled]
            for i in as_json:
                out[i] = json.dumps(out[i])
            copy.write_row(out)
    if skip_conflicts:
        keys = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
        session.execute(text(f"INSERT INTO {table.name} ({listed}) SELECT {listed} "
                             f"FROM {target} ORDER BY {keys} ON CONFLICT DO NOTHING"))
        session.execute(text(f"TRUNCATE {target}"))


def sqlite_many(session: Session, statement: str, rows: Iterable[Sequence]) -> None:
    """SQLite: `statement` (with ? placeholders) run once per row of plain values, in one
    executemany on the driver's cursor (for tables SQLAlchemy does not describe, such as
    the full-text index)."""
    session.flush()
    cursor = _driver(session).cursor()
    try:
        cursor.executemany(statement, rows)
    finally:
        cursor.close()


def _sqlite_rows(session: Session, table: Table, rows: Sequence[dict], prefix: str) -> None:
    """One executemany of `rows` on the driver's cursor, each value through its column's
    bind processor, as SQLAlchemy would send it."""
    session.flush()
    names, filled = _columns(table, rows)
    dialect = session.get_bind().dialect
    processors = [(i, process) for i, n in enumerate(names)
                  if (process := table.c[n].type._cached_bind_processor(dialect)) is not None]
    given = names[:len(names) - len(filled)]
    values = itemgetter(*given)

    def parameters():  # noqa: ANN202 - a generator of lists, row by row
        for row in rows:
            out = [*values(row), *filled] if len(given) > 1 else [values(row), *filled]
            for i, process in processors:
                out[i] = process(out[i])
            yield out

    listed = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    cursor = _driver(session).cursor()
    try:
        cursor.executemany(f'INSERT {prefix}INTO "{table.name}" ({listed}) VALUES ({marks})',
                           parameters())
    finally:
        cursor.close()


def insert_rows(session: Session, table: Table, rows: Sequence[dict], *,
                skip_conflicts: bool = False) -> None:
    """Insert `rows` (dicts with the same keys) in one statement: COPY on PostgreSQL, one
    executemany on SQLite. No session event sees it (see the module docstring)."""
    if not rows:
        return
    if is_sqlite(session):
        _sqlite_rows(session, table, rows, "OR IGNORE " if skip_conflicts else "")
    else:
        copy_rows(session, table, rows, skip_conflicts=skip_conflicts)


def insert_new(session: Session, table: Table, rows: Sequence[dict]) -> list[int]:
    """Insert `rows` without their primary key; returns their new keys, in row order."""
    if not rows:
        return []
    if not is_sqlite(session):
        ids = reserve_ids(session, table, len(rows))
        (key,) = table.primary_key.columns
        copy_rows(session, table, [{**row, key.name: i} for i, row in zip(ids, rows,
                                                                        strict=True)])
        return ids
    _sqlite_rows(session, table, rows, "")
    last = session.scalar(text("SELECT last_insert_rowid()"))
    return list(range(last - len(rows) + 1, last + 1))
