"""Imports of JSON documents, JSON Lines and GeoJSON through mappings written here: the real
Chicago Open311 sample (events in its notes) and a SeeClickFix-API-shaped dump with dates in
epoch milliseconds. Every date lands as the file says; memory stays flat on a large file."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core.errors import ConfigError
from portal.data import import_mapping, import_sources
from portal.data.importer import import_issues
from portal.models import Issue, Update
from portal.reports.activity import aware
from tests.import_support import city

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
T0 = datetime(2017, 1, 2, 9, 0, tzinfo=UTC)  # a Monday

CHICAGO_MAPPING = """
[source]
name = "chicago311"
label = "Chicago 311 (import)"
format = "json"

[columns]
id = "service_request_id"
created = "requested_datetime"
updated = "updated_datetime"
status = "status"
title = "service_name"
description = "status_notes"
address = "address"
lat = "lat"
lon = "long"
request_type = "service_name"

[dates]
format = "iso"
timezone = "America/Chicago"

[statuses]
open = "open"
closed = "closed"

[request_types.map]
"Building Violation" = "building"
"Pavement Cave-In Survey" = "pothole"
"Pothole in Street" = "pothole"
"Street Cut Complaints" = "street-cut"
"Traffic Signal Out" = "traffic-signal"
"Street Light Out" = "streetlight"
"Abandoned Vehicle" = "abandoned-vehicle"

[notes]
path = "notes"
type = "type"
datetime = "datetime"

[notes.events]
closed = "closed"
"""
CHICAGO_TYPES = {"building": "Building", "pothole": "Pothole", "street-cut": "Street cut",
                 "traffic-signal": "Traffic signal", "streetlight": "Street light",
                 "abandoned-vehicle": "Abandoned vehicle"}

SCF_MAPPING = """
[source]
name = "scf-api"
format = "json"
records = "issues"

[columns]
id = "id"
created = "created_at"
acknowledged = "acknowledged_at"
closed = "closed_at"
reopened = "reopened_at"
updated = "updated_at"
status = "status"
title = "summary"
description = "description"
address = "address"
lat = "lat"
lon = "lng"
request_type = "request_type.title"
external_url = "html_url"

[dates]
format = "epoch_ms"

[statuses]
Open = "open"
Acknowledged = "acknowledged"
Closed = "closed"
Archived = "archived"

[request_types.map]
"Snow Issue" = "snow"
"Storm Drain" = "storm-drain"
"Odor from manhole cover" = "sewer"
"Traffic Sign/Pavement Marking" = "sign"
"Pothole" = "pothole"
"""
HARBOUR_TYPES = {"snow": "Snow", "storm-drain": "Storm drain", "sewer": "Sewer",
                 "sign": "Sign", "pothole": "Pothole"}
HARBOUR = (10.0, 10.0, 11.0, 11.0)
SCF_CODES = {"Snow Issue": "snow", "Storm Drain": "storm-drain",
             "Odor from manhole cover": "sewer", "Traffic Sign/Pavement Marking": "sign",
             "Pothole": "pothole"}


def mapping(tmp_path: Path, text: str) -> import_mapping.Mapping:
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    return import_mapping.load(path)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def scf_issues(count: int = 60, seed: int = 4) -> list[dict]:
    """SeeClickFix API v2 issues, dates in epoch milliseconds (with their milliseconds)."""
    rng = random.Random(seed)
    kinds = ["Snow Issue", "Storm Drain", "Odor from manhole cover",
             "Traffic Sign/Pavement Marking", "Pothole"]
    out = []
    for n in range(count):
        created = T0 + timedelta(hours=rng.randrange(20 * 7 * 24), milliseconds=rng.randrange(1000))
        status = rng.choice(["Open", "Acknowledged", "Closed", "Closed", "Archived"])
        acknowledged = closed = reopened = None
        if status in ("Acknowledged", "Closed", "Archived"):
            acknowledged = created + timedelta(minutes=rng.randrange(10, 5000), milliseconds=7)
        if status in ("Closed", "Archived"):
            closed = acknowledged + timedelta(minutes=rng.randrange(10, 9000), milliseconds=3)
        if status == "Open" and n % 4 == 0:  # closed once, then reopened
            closed = created + timedelta(hours=rng.randrange(1, 90))
            reopened = closed + timedelta(hours=5)
        last = max(t for t in (created, acknowledged, closed, reopened) if t)
        out.append({
            "id": 5_000_000 + n, "status": status, "summary": f"Report {n}",
            "description": f"Something at spot {n}", "rating": rng.randrange(5),
            "lat": 10.1 + rng.random() * 0.8, "lng": 10.1 + rng.random() * 0.8,
            "address": f"{n} Harbour Road", "created_at": ms(created),
            "acknowledged_at": ms(acknowledged) if acknowledged else None,
            "closed_at": ms(closed) if closed else None,
            "reopened_at": ms(reopened) if reopened else None,
            "updated_at": ms(last + timedelta(minutes=1)),
            "request_type": {"id": kinds.index(kinds[n % 5]), "title": kinds[n % 5]},
            "html_url": f"https://seeclickfix.com/issues/{5_000_000 + n}"})
    return out


def write_scf(path: Path, issues: list[dict]) -> Path:
    path.write_text(json.dumps({"metadata": {"pagination": {"entries": len(issues)}},
                                "issues": issues, "errors": {}}))
    return path


def at(epoch_ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC) if epoch_ms is not None else None


def utc(value: datetime) -> datetime:
    return aware(value).astimezone(UTC)


def test_a_seeclickfix_api_dump_with_epoch_milliseconds_lands_with_every_date(
        session, settings, tmp_path):
    harbour = city(session, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                   HARBOUR_TYPES)
    issues = scf_issues()
    path = write_scf(tmp_path / "scf.json", issues)
    summary = import_issues(session, path, harbour, mapping=mapping(tmp_path, SCF_MAPPING))
    assert (summary.imported, summary.skipped) == (len(issues), {})

    stored = {i.external_id: i for i in session.scalars(select(Issue))}
    for record in issues:
        issue = stored[f"scf-api:{record['id']}"]
        assert utc(issue.created_at) == at(record["created_at"])  # to the millisecond
        assert utc(issue.updated_at) == at(record["updated_at"])
        assert issue.status == record["status"].lower()
        assert issue.request_type.code == SCF_CODES[record["request_type"]["title"]]
        assert issue.external_url == record["html_url"]
        assert issue.address == " ".join(record["address"].split())
        moves = [(u.old_status, u.new_status, utc(u.created_at)) for u in session.scalars(
            select(Update).where(Update.issue_id == issue.id, Update.kind == "status")
            .order_by(Update.created_at))]
        want, current = [], "open"
        for status, key in (("acknowledged", "acknowledged_at"), ("closed", "closed_at"),
                            ("open", "reopened_at")):
            if record[key] is not None:
                want.append((current, status, at(record[key])))
                current = status
        assert moves == want
    codes = {i.request_type.code for i in stored.values()}
    assert codes == set(HARBOUR_TYPES)  # the operator's own types, from the table


def test_dates_in_the_wrong_unit_are_refused_not_mangled(session, settings, tmp_path):
    harbour = city(session, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                   HARBOUR_TYPES)
    issues = scf_issues(3)
    issues[0]["created_at"] //= 1000  # seconds where milliseconds are promised: 1970
    issues[1]["created_at"] = "2017-03-01T10:00:00Z"  # text where a number is promised
    skipped = tmp_path / "skipped.csv"
    summary = import_issues(session, write_scf(tmp_path / "scf.json", issues), harbour,
                            mapping=mapping(tmp_path, SCF_MAPPING), skipped_path=skipped)
    assert summary.imported == 1
    assert summary.skipped == {"missing or bad date": 2}
    text = skipped.read_text()
    assert "reads as 1970-01-18, outside 1971.." in text
    assert "is not a number of ms" in text


def test_a_date_in_ms_read_as_seconds_would_be_year_47000_and_is_refused(
        session, settings, tmp_path):
    harbour = city(session, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                   HARBOUR_TYPES)
    seconds = mapping(tmp_path, SCF_MAPPING.replace('"epoch_ms"', '"epoch_s"'))
    summary = import_issues(session, write_scf(tmp_path / "scf.json", scf_issues(4)), harbour,
                            mapping=seconds)
    assert summary.imported == 0 and summary.skipped == {"missing or bad date": 4}


def test_json_lines_and_geojson_read_the_same_records(session, settings, tmp_path):
    harbour = city(session, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                   HARBOUR_TYPES)
    issues = scf_issues(10)
    lines = tmp_path / "scf.jsonl"
    lines.write_text("".join(json.dumps(i) + "\n" for i in issues[:5]))
    as_lines = SCF_MAPPING.replace('format = "json"\nrecords = "issues"', 'format = "jsonl"')
    assert import_issues(session, lines, harbour,
                         mapping=mapping(tmp_path, as_lines)).imported == 5
    features = [{"type": "Feature", "id": i["id"],
                 "geometry": {"type": "Point", "coordinates": [i["lng"], i["lat"]]},
                 "properties": {k: v for k, v in i.items() if k not in ("lat", "lng", "id")}}
                for i in issues[5:]]
    geojson = tmp_path / "scf.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    as_geojson = (SCF_MAPPING.replace('format = "json"\nrecords = "issues"', 'format = "geojson"')
                  .replace('lat = "lat"\nlon = "lng"', 'location = "geometry"'))
    assert import_issues(session, geojson, harbour,
                         mapping=mapping(tmp_path, as_geojson)).imported == 5
    stored = {i.external_id: i for i in session.scalars(select(Issue))}
    for record in issues:
        issue = stored[f"scf-api:{record['id']}"]
        assert (issue.lat, issue.lon) == (round(record["lat"], 7), round(record["lng"], 7))
        assert utc(issue.created_at) == at(record["created_at"])


def test_the_json_reader_streams_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(import_sources, "CHUNK", 7)  # every value is cut somewhere
    doc = {"meta": {"a": [1, 2, {"b": "x" * 30}]}, "n": 12345678901234,
           "data": {"items": [{"id": n, "v": 1.5 ** n, "s": "é" * n, "t": n % 2 == 0,
                               "z": None, "q": 'a"b\\'} for n in range(25)]}}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    got = [record for _n, record in import_sources.records(path, "json", "data.items")]
    assert got == doc["data"]["items"]
    with pytest.raises(ConfigError, match="not in this file"):
        list(import_sources.records(path, "json", "data.nothing"))
    with pytest.raises(ConfigError, match="no list of records"):
        import_sources.guess_records(path)  # none at the top: say --records
    path.write_text(json.dumps({"meta": {}, "issues": [{"id": 1}]}))
    assert import_sources.guess_records(path) == "issues"


@pytest.mark.shared_data
def test_the_chicago_open311_sample_lands_with_its_notes_as_history(session, settings,
                                                                    tmp_path):
    path = SHARED / "open311_chicago_requests_sample_2014.json"
    if not path.is_file():
        pytest.skip(f"shared data not present at {SHARED} (CI and dev machines have it)")
    chicago = city(session, tmp_path / "tenants", settings.themes_dir, "chicago",
                   (-87.95, 41.6, -87.5, 42.05), CHICAGO_TYPES)
    summary = import_issues(session, path, chicago, mapping=mapping(tmp_path, CHICAGO_MAPPING))
    records = json.loads(path.read_text())
    assert (summary.imported, summary.skipped) == (len(records), {})
    stored = {i.external_id: i for i in session.scalars(select(Issue))}
    for record in records:
        issue = stored[f"chicago311:{record['service_request_id']}"]
        assert utc(issue.created_at) == datetime.fromisoformat(record["requested_datetime"])
        assert utc(issue.updated_at) == max(
            datetime.fromisoformat(t) for t in [record["updated_datetime"],
                                                 record["requested_datetime"]]
            + [n["datetime"] for n in record["notes"] if n["type"] == "closed"])
        assert issue.status == record["status"]
        assert issue.address == " ".join(record["address"].split())
        closes = [datetime.fromisoformat(n["datetime"]) for n in record["notes"]
                  if n["type"] == "closed"]
        moves = [(u.new_status, utc(u.created_at)) for u in session.scalars(
            select(Update).where(Update.issue_id == issue.id, Update.kind == "status"))]
        assert moves == [("closed", when) for when in closes]


def test_a_large_json_file_is_read_in_flat_memory(session, settings, tmp_path):
    """90 MB of records (a JSON document decoded whole would take several times that in
    memory); resident memory, sampled at every batch, stays within a few megabytes."""
    harbour = city(session, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                   HARBOUR_TYPES)
    path = tmp_path / "large.json"
    filler = "lorem ipsum " * 45
    with path.open("w", encoding="utf-8") as out:
        out.write('{"issues": [')
        for n in range(150_000):
            placed = n % 50 == 0  # one in fifty is a whole record, written to the database
            out.write(("," if n else "") + json.dumps({
                "id": n, "status": "Open", "summary": "Pothole", "description": filler,
                "lat": 10.5 if placed else None, "lng": 10.5 + n / 1e7 if placed else None,
                "created_at": ms(T0) + n, "acknowledged_at": None, "closed_at": None,
                "reopened_at": None, "updated_at": None, "address": "", "html_url": "",
                "request_type": {"title": "Pothole"}}))
        out.write("]}")
    assert path.stat().st_size > 85_000_000
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * page

    samples: list[int] = []
    start = resident()
    summary = import_issues(session, path, harbour, mapping=mapping(tmp_path, SCF_MAPPING),
                            progress=lambda done, total: samples.append(resident()),
                            on_batch=session.commit)
    assert summary.imported == 3_000
    assert summary.skipped == {"missing or bad coordinates": 147_000}
    assert len(samples) >= 3
    assert max(samples) - start < 40_000_000


def test_broken_json_stops_with_where_and_a_bad_json_line_is_skipped(
        session, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(import_sources, "CHUNK", 16)
    harbour = city(session, tmp_path / "tenants", settings.themes_dir, "harbour", HARBOUR,
                   HARBOUR_TYPES)
    good = json.dumps(scf_issues(1)[0])
    broken = tmp_path / "broken.json"
    broken.write_text('{"issues": [' + good + ', {"id": 7,, "x": 1}' + ", " + good + "]}")
    with pytest.raises(ConfigError, match=r"not valid JSON: Expecting property name enclosed "
                                          r"in double quotes \(character \d+\)"):
        import_issues(session, broken, harbour, mapping=mapping(tmp_path, SCF_MAPPING))
    lines = tmp_path / "scf.jsonl"
    second = json.dumps(scf_issues(2)[1])
    lines.write_text(good + "\n" + '{"id": 9, "oops\n' + second + "\n")
    as_lines = SCF_MAPPING.replace('format = "json"\nrecords = "issues"', 'format = "jsonl"')
    summary = import_issues(session, lines, harbour, mapping=mapping(tmp_path, as_lines))
    assert (summary.imported, summary.skipped) == (2, {"not valid JSON": 1})
