"""Our Open311 documents against the spec, and the real shapes other servers publish.

The schemas and XML checker (tests/open311_support.py) are written from the spec's text; the
real documents (../shared/data/open311_*.json: Chicago's requests with notes and extended
attributes, Bloomington's services with groups) must pass the same schemas, parse with our
date parser, and come out of our XML writer and back unchanged (the Spark convention).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from portal.open311 import dates, documents
from tests.open311_support import check_json, check_xml, load_json, shared_file

CHICAGO = shared_file("open311_chicago_requests_sample_2014.json")
BLOOMINGTON = shared_file("open311_bloomington_in_services.json")
needs_chicago = pytest.mark.skipif(CHICAGO is None, reason="../shared/data/"
                                   "open311_chicago_requests_sample_2014.json is absent")
needs_bloomington = pytest.mark.skipif(BLOOMINGTON is None, reason="../shared/data/"
                                       "open311_bloomington_in_services.json is absent")


def _spark(element: ET.Element, lists: set[str]) -> object:
    """XML back to JSON by the Spark convention: wrappers of repeated items become lists."""
    if element.tag in lists:
        return [_spark(child, lists) for child in element]
    if len(element):
        return {child.tag: _spark(child, lists) for child in element}
    return element.text or ""


def _as_text(value: object) -> object:
    """What a JSON value reads as in XML: text (true/false for booleans, "" for null)."""
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@needs_chicago
def test_chicagos_requests_pass_our_request_schema_and_dates():
    requests = load_json(CHICAGO)
    check_json(requests, "service_requests", ours=False)
    for item in requests:
        for name in ("requested_datetime", "updated_datetime"):
            assert dates.parse(item[name]) is not None, item[name]
        for note in item["notes"]:
            assert dates.parse(note["datetime"]) is not None


@needs_chicago
def test_chicagos_requests_come_out_of_our_xml_writer_and_back_unchanged():
    requests = load_json(CHICAGO)
    content = documents.xml_document("service_requests", requests)
    root = check_xml(content, "service_requests", ours=False)
    back = [_spark(r, {"notes"}) for r in root]
    assert back == _as_text(requests)
    assert json.loads(documents.json_document(requests)) == requests


@needs_bloomington
def test_bloomingtons_services_pass_our_services_schema_and_round_trip():
    services = load_json(BLOOMINGTON)
    check_json(services, "services", ours=False)  # their codes are numbers, as the spec's
    assert {s["group"] for s in services} > {"Cleanup & Sanitation"}
    root = check_xml(documents.xml_document("services", services), "services", ours=False)
    assert [_spark(s, set()) for s in root] == _as_text(services)


@needs_bloomington
def test_our_stricter_check_refuses_numeric_codes():
    """Ours promise string codes; the check that holds us to it must see a number."""
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        check_json(load_json(BLOOMINGTON), "services", ours=True)


def test_the_xml_writer_escapes_and_drops_what_xml_cannot_hold():
    content = documents.xml_document("service_requests", [
        {"service_request_id": "1", "description": "a < b & c > d\x00\x07 ok ✓"}])
    assert ET.fromstring(content).find("request/description").text == "a < b & c > d ok ✓"


@pytest.mark.parametrize("text, ok", [
    ("1994-11-05T08:15:30-05:00", True), ("1994-11-05T13:15:30Z", True),
    ("1994-11-05T13:15Z", True), ("1994-11-05T13:15:30.25+01:00", True),
    ("1994-11-05T13:15:30", False), ("1994-11-05", False), ("1994-11-05 13:15:30Z", False),
    ("1994-02-30T00:00:00Z", False), ("tomorrow", False), ("", False),
])
def test_w3c_dates_need_a_zone(text, ok):
    assert (dates.parse(text) is not None) is ok
