"""Import a city's history of issues from another system's export, through a mapping.

Why not `submit_report`: these are history. They keep their original dates and status, and
the bodies must not be mailed about reports that are years old. Everything else a report gets
still happens: history rows, portal membership and the search index, so imported issues show
on every portal whose area holds them, and the dashboard counts them.

What a file means is said by a mapping (`import_mapping`): which column holds each field,
how dates read, which source status and category is which of ours. Nothing is guessed: a
status the mapping does not list, a category with no entry and no default, a date that does
not read as the mapping says — each skips its record with that reason, and the rest go in.

History is true: one row per event the source dates (reported, acknowledged, closed,
reopened, archived, and an Open311 record's notes), at its own time, so medians, the weekly
chart and exports say what happened. An event the source does not date gets no row; the
issue's status is still the source's.

Every record gets `Issue.external_id = "<mapping name>:<source id>"`. Importing the same file
again updates records whose fields or events changed (row by row, the database's triggers
keeping every count) and leaves the others alone. A record twice in one file is skipped as a
duplicate when this run wrote it; a repeat of a record from an earlier run reads as already
there (the run remembers no ids beyond its batch, so memory stays flat).
Records are read one at a time and written in batches, so memory stays flat however large
the file (`import_sources`).

This module runs an import: the file's records through `import_records` (a record read by the
mapping, or the reason it is skipped) into `import_writes` (a batch written), with the
progress, the summary and the skipped file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.db import is_sqlite
from portal.data import import_mapping, import_sources
from portal.data.import_mapping import Mapping
from portal.data.import_records import (
    DUPLICATE,
    NOT_JSON,
    SNAPPED,
    ImportSummary,
    Places,
    Reader,
    Record,
    Skip,
)
from portal.data.import_writes import analyze, write_batch
from portal.models import Issue, Tenant

BATCH = 1000


class SkippedFile:
    """`--skipped FILE`: each skipped (or moved) record with its source row, the reason, the
    detail, and for a point outside the area its distance to it in metres."""

    def __init__(self, handle: IO[str], columns: list[str] | None) -> None:
        self.columns = columns  # a CSV source's own columns, echoed; JSON: one record column
        self.writer = csv.writer(handle, lineterminator="\n")
        self.writer.writerow(["source_row", "reason", "detail", "distance_m",
                              *(columns if columns else ["record"])])

    def write(self, row: int, source: dict, reason: str, detail: str,
              distance: float | None) -> None:
        tail = ([source.get(c, "") for c in self.columns] if self.columns
                else [json.dumps(source, ensure_ascii=False, default=str)])
        self.writer.writerow([row, reason, detail,
                              "" if distance is None else round(distance), *tail])


@contextmanager
def _skipped_file(path: Path | None, columns: list[str] | None) -> Iterator[SkippedFile | None]:
    if path is None:
        yield None
        return
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        yield SkippedFile(handle, columns)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def import_issues(
    session: Session,
    path: Path,
    tenant: Tenant,
    *,
    mapping: Mapping | None = None,
    fmt: str | None = None,
    default_type: str | None = None,
    skipped_path: Path | None = None,
    tolerance_m: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
    on_batch: Callable[[], None] | None = None,
    batch_size: int = BATCH,
) -> ImportSummary:
    """Import the records of `path` that lie in `tenant`'s area; see the module docstring.

    Without a `mapping`, the shipped one named `fmt` is used, or the one a CSV's header
    matches; `default_type` replaces the mapping's default request type. Writes in the
    caller's transaction, flushing every `batch_size` records; pass `on_batch=session.commit`
    to commit as it goes. `progress(done, total)` is called after every batch (total is 0
    when it is not known ahead, for a JSON document). A point up to `tolerance_m` metres
    outside the area is moved just inside it, and its issue keeps how far (`moved_m`).
    """
    path = Path(path)
    if mapping is None:
        mapping = (import_mapping.shipped_named(fmt) if fmt else
                   import_mapping.for_columns(import_sources.header(path, "csv")))
    if default_type:
        mapping = replace(mapping, default_type=default_type)
    found = import_sources.header(path, mapping.format, mapping.records)
    import_mapping.check_columns(mapping, found)
    lines = _count_lines(path) if mapping.format in ("csv", "jsonl") else 0
    summary = ImportSummary(fmt=mapping.name, total=max(lines - (mapping.format == "csv"), 0))
    places = Places(session, tenant)
    reader = Reader(mapping, places, tolerance_m, lower_case=mapping.format == "csv")
    newest_before = session.scalar(select(func.max(Issue.id))) or 0
    pending: dict[str, Record] = {}
    done = 0
    batches = [0]

    with _skipped_file(skipped_path, found if mapping.format == "csv" else None) as report:
        def skip(row: int, source: dict, reason: str, detail: str = "",
                 distance: float | None = None) -> None:
            summary.skip(reason)
            if report is not None:
                report.write(row, source, reason, detail, distance)

        def flush() -> None:
            if pending:
                write_batch(session, list(pending.values()), places, tenant, mapping, summary,
                       newest_before, skip)
                pending.clear()
                batches[0] += 1
                if on_batch is not None:
                    on_batch()
                if batches[0] & (batches[0] - 1) == 0 and not is_sqlite(session):
                    analyze(session)
            if progress is not None:
                progress(done, max(summary.total, done) if summary.total else 0)

        for row, source in import_sources.records(path, mapping.format, mapping.records):
            done += 1
            try:
                if source is None:
                    source = {}
                    raise Skip(NOT_JSON)
                record = reader.read(row, source)
            except Skip as exc:
                skip(row, source, exc.reason, exc.detail, exc.distance)
            else:
                if record.external_id in pending:
                    skip(row, source, DUPLICATE, record.external_id)
                else:
                    pending[record.external_id] = record
                    if record.moved_m is not None:
                        summary.snapped += 1
                        if report is not None:
                            report.write(row, source, SNAPPED, f"{record.moved_m} m outside",
                                         record.moved_m)
            if len(pending) >= batch_size:
                flush()
        flush()
    summary.total = done
    return summary


