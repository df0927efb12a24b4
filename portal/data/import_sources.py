"""Records out of an import file, one at a time, in constant memory.

CSV (header row), a JSON document holding a list of records at a dotted path (the top, or the
SeeClickFix API's `issues`, or a FeatureCollection's `features`), or JSON Lines. A JSON
document is read as a stream: values beside the records are decoded and dropped, and the
records are decoded one by one, so a gigabyte file never sits in memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from portal.core.errors import N_, ConfigError

CHUNK = 1 << 16
MAX_RECORD = 64 << 20  # characters: one record larger than this is not a record
_WHITESPACE = " \t\r\n"


def records(path: Path, fmt: str, records_path: str = "") -> Iterator[tuple[int, dict | None]]:
    """(source row, record): the CSV line number of the row, or the record's 1-based index.
    A JSON Lines line that is not JSON comes as (line number, None), to be skipped with its
    reason; a JSON document that is not JSON stops the import with where it broke."""
    if fmt == "csv":
        yield from _csv(path)
    elif fmt == "jsonl":
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        value = json.loads(line)
                    except json.JSONDecodeError:
                        yield number, None
                    else:
                        yield number, _record(value, path)
    else:
        with path.open(encoding="utf-8-sig") as handle:
            stream = _Stream(handle)
            for number, value in enumerate(stream.array_at(
                    [p for p in records_path.split(".") if p]), start=1):
                yield number, _record(value, path)


def _record(value: object, path: Path) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(N_("a record in %(path)s is not a JSON object"), path=str(path))
    if value.get("type") == "Feature":  # GeoJSON: the properties, and the point as `geometry`
        return {**(value.get("properties") or {}), "geometry": value.get("geometry"),
                "id": value.get("id", (value.get("properties") or {}).get("id"))}
    return value


def _csv(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
        for row in reader:
            yield reader.line_num, row


def guess_format(path: Path) -> str:
    """From the file's extension: .jsonl/.ndjson, .geojson, .json, else CSV."""
    suffix = path.suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".geojson": "geojson",
            ".json": "json"}.get(suffix, "csv")


def guess_records(path: Path) -> str:
    """Where a JSON document keeps its records: the top list, or its first list-valued key."""
    with path.open(encoding="utf-8-sig") as handle:
        found = _Stream(handle).first_list()
    if found is None:
        raise ConfigError(N_("found no list of records in %(path)s; say where they are with "
                             "--records"), path=str(path))
    return found


def header(path: Path, fmt: str, records_path: str = "", sample: int = 50) -> list[str]:
    """The CSV's columns, or the keys seen in the first `sample` JSON records."""
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [c.strip().lower() for c in next(csv.reader(handle), [])]
    keys: dict[str, None] = {}
    for number, record in records(path, fmt, records_path):
        keys.update(dict.fromkeys(record or {}))
        if number >= sample:
            break
    return list(keys)


def value_at(record: dict, path: str) -> object:
    """The value at a dotted path (`request_type.title`), or None where it is missing."""
    value: object = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part, value.get(part.lower()))
    return value


class _Stream:
    """Just enough of an incremental JSON reader: walk objects to a path, then yield the
    array's items, each decoded with the standard decoder from a sliding buffer."""

    def __init__(self, handle) -> None:  # noqa: ANN001 - a text file
        self.handle, self.buffer, self.pos = handle, "", 0
        self.offset = 0  # characters of the file before the buffer
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        more = self.handle.read(CHUNK)
        self.offset += self.pos
        self.buffer = self.buffer[self.pos:] + more
        self.pos = 0
        return bool(more)

    def _peek(self) -> str:
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ConfigError(N_("this is not the JSON the mapping describes: expected "
                                 "%(char)s at the records path"), char=char)
        self.pos += 1

    def _value(self) -> object:
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                # Cut off by the chunk's end (the error is in the buffer's last few
                # characters, "nu|ll" or "12|3", or a string runs past it): read on and try
                # again; a real error then shows further from the end. Anything else, or a
                # "record" past MAX_RECORD, is broken.
                cut = (len(self.buffer) - exc.pos < 32
                       or exc.msg.startswith("Unterminated string"))
                if not (cut and len(self.buffer) - self.pos < MAX_RECORD and self._fill()):
                    raise ConfigError(N_("this is not valid JSON: %(problem)s"),
                                      problem=f"{exc.msg} (character "
                                              f"{self.offset + exc.pos + 1})") from None
                continue
            if end == len(self.buffer) and self._fill():
                continue  # a number may go on in the next chunk: decode it again, whole
            self.pos = end
            return value

    def first_list(self) -> str | None:
        """The first key of the top object whose value is a list; "" when the top is one."""
        if self._peek() == "[":
            return ""
        self._expect("{")
        while self._peek() != "}":
            key = self._value()
            self._expect(":")
            if self._peek() == "[":
                return str(key)
            self._value()
            if self._peek() == ",":
                self.pos += 1
        return None

    def array_at(self, path: list[str]) -> Iterator[object]:
        if path:
            self._expect("{")
            while self._peek() != "}":
                key = self._value()
                self._expect(":")
                if key == path[0]:
                    yield from self.array_at(path[1:])
                    return
                self._value()  # a value beside the records: decoded and dropped
                if self._peek() == ",":
                    self.pos += 1
            raise ConfigError(N_("the records path %(path)s is not in this file"),
                              path=".".join(path))
        self._expect("[")
        if self._peek() == "]":
            return
        while True:
            yield self._value()
            char = self._peek()
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise ConfigError(N_("this is not the JSON the mapping describes: expected "
                                     "%(char)s at the records path"), char=",")
