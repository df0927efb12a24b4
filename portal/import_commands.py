"""`portal import-issues`: a city's history from a file or an Open311 server, through a
mapping (`portal.data.import_mapping`), with a progress bar; or a starting mapping for a file.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from portal.cli_support import open_db, portal_named
from portal.core.db import analyze
from portal.core.errors import N_, ConfigError
from portal.core.i18n import gettext as _
from portal.core.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    imp = sub.add_parser("import-issues", help="import historical issues from a CSV, JSON, "
                                               "JSON Lines or GeoJSON file")
    imp.add_argument("file", nargs="?")
    imp.add_argument("--open311", metavar="FILE-or-URL",
                     help="a city's Open311 requests: a saved requests.json, or the server's "
                          "v2 address (every request since --since, with their notes)")
    imp.add_argument("--since", metavar="DATE", help="with an --open311 address: from this day "
                                                      "(default: a year ago)")
    imp.add_argument("--jurisdiction", help="with an --open311 address: its jurisdiction_id")
    imp.add_argument("--tenant", help="portal whose area and types to use")
    imp.add_argument("--mapping", help="TOML file saying which column holds what (default: "
                                       "the shipped mapping matching a CSV's columns)")
    imp.add_argument("--suggest-mapping", metavar="OUT", nargs="?", const="-",
                     help="write a starting mapping for this file (to OUT, or stdout)")
    imp.add_argument("--format", choices=["csv", "json", "jsonl", "geojson"],
                     help="with --suggest-mapping: the file's format (default: its extension)")
    imp.add_argument("--records", help="with --suggest-mapping: the dotted path to the "
                                       "records in a JSON document, e.g. issues")
    imp.add_argument("--skipped", metavar="CSV", help="write every skipped record here, with "
                                                      "its source row, reason and distance")
    imp.add_argument("--tolerance", metavar="DISTANCE",
                     help="accept points this far outside the area (e.g. 600m), moved inside")
    imp.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from portal.data import import_mapping

    if args.open311:
        return _import_open311(args, settings)
    if not args.file:
        raise ConfigError(N_("say what to import: a file, or --open311 FILE-or-URL"))
    path = Path(args.file)
    if not path.is_file():
        raise ConfigError(N_("no such file: %(path)s"), path=str(path))
    if args.suggest_mapping:
        return _suggest_mapping(path, args)
    mapping = import_mapping.load(Path(args.mapping)) if args.mapping else None
    return _import_file(args, settings, path, mapping)


def _import_open311(args: argparse.Namespace, settings: Settings) -> int:
    """`--open311`: a saved requests.json, or every request an Open311 server has since
    `--since`, through the shipped `open311` mapping (or `--mapping`)."""
    import tempfile

    from portal.data import import_mapping
    from portal.open311 import endpoint, history

    mapping = (import_mapping.load(Path(args.mapping)) if args.mapping
               else import_mapping.shipped_named("open311"))
    source = args.open311
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        if not path.is_file():
            raise ConfigError(N_("no such file: %(path)s"), path=str(path))
        return _import_file(args, settings, path, mapping)
    try:
        since = datetime.fromisoformat(args.since).replace(tzinfo=UTC) if args.since else (
            datetime.now(UTC) - timedelta(days=365))
    except ValueError:
        raise ConfigError(N_("bad --since %(value)s: give a date such as 2024-01-31"),
                          value=args.since) from None
    with tempfile.TemporaryDirectory(prefix="reportal-open311-") as folder:
        path = Path(folder) / "requests.json"
        try:
            count = history.download(source.rstrip("/"), path, since=since,
                                     until=datetime.now(UTC), jurisdiction=args.jurisdiction or "")
        except endpoint.EndpointError as exc:
            raise ConfigError(N_("the Open311 server did not answer as it should: %(error)s"),
                              error=str(exc)) from None
        print(_("requests read from %(url)s: %(count)s", url=source, count=count))
        return _import_file(args, settings, path, mapping)


def _import_file(args: argparse.Namespace, settings: Settings, path: Path, mapping) -> int:  # noqa: ANN001
    from portal.data import import_values
    from portal.data.importer import import_issues

    if not args.tenant:
        raise ConfigError(N_("say which portal to import into with --tenant SLUG"))
    try:
        tolerance = import_values.parse_distance(args.tolerance) if args.tolerance else 0.0
    except import_values.BadValue:
        raise ConfigError(N_("bad tolerance %(value)s: give a distance such as 600m or 1.5km"),
                          value=args.tolerance) from None
    db = open_db(settings)
    with db.session() as session:
        tenant = portal_named(session, args.tenant)
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-6)
            if total:
                width = 30
                filled = min(width, int(width * done / total))
                bar = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
            else:
                bar = f"{done}"
            sys.stderr.write(f"\r{bar}  {rate:,.0f}/s")
            sys.stderr.flush()

        # Commit every batch: a long import that stops half-way keeps what it did, and a
        # re-run finds those records already there.
        summary = import_issues(session, path, tenant, mapping=mapping, progress=progress,
                                on_batch=session.commit, tolerance_m=tolerance,
                                skipped_path=Path(args.skipped) if args.skipped else None)
    analyze(db.engine)  # a bulk load changes what the planner should choose
    sys.stderr.write("\n")
    for line in summary.lines():
        print(line)
    return 0


def _suggest_mapping(path: Path, args: argparse.Namespace) -> int:
    """Write a starting mapping from the columns (and status and category values) seen."""
    from portal.data import import_mapping, import_sources

    fmt = args.format or import_sources.guess_format(path)
    records = args.records if args.records is not None else (
        import_sources.guess_records(path) if fmt in ("json", "geojson") else "")
    found = import_sources.header(path, fmt, records)
    text = import_mapping.suggest(found, fmt, records, path.stem.split(".")[0][:40],
                                  import_mapping.values_seen(path, fmt, records, found))
    if args.suggest_mapping == "-":
        sys.stdout.write(text)
    else:
        Path(args.suggest_mapping).write_text(text, encoding="utf-8")
        print(_("wrote %(path)s", path=args.suggest_mapping))
    return 0
