"""The PyPI client `georeport` against a live portal (`portal serve` on loopback), in both
formats: the services, a service definition, requests with filters, a request by id.

The server is set up as an operator would: `portal db upgrade`, `portal tenants load`, a key
from `portal open311 keys create`; the reports are filed over HTTP with that key.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from portal.core import geo
from portal.core.settings import REPO_ROOT
from tests import live_portal
from tests.cli_run import run_portal

georeport = pytest.importorskip("georeport", reason="the PyPI package georeport is not installed")

PORTAL = "new-haven"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("open311-live")
    env = live_portal.environment(folder)
    live_portal.run(env, "db", "upgrade")
    live_portal.run(env, "tenants", "load")
    made = live_portal.run(env, "open311", "keys", "create", PORTAL, "--application",
                           "georeport test")
    key = made.strip().splitlines()[-1]
    port = live_portal.free_port()
    with live_portal.serving(folder, env, port):
        yield {"port": port, "key": key, "env": env,
               "root": f"http://127.0.0.1:{port}/t/{PORTAL}/open311/v2"}


def _post(port: int, fields: dict) -> tuple[int, dict | list]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", f"/t/{PORTAL}/open311/v2/requests.json", body=urlencode(fields),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def filed(live) -> list[str]:  # noqa: ANN001
    """Two reports filed with the CLI's key, at a point inside the portal."""
    area = (REPO_ROOT / "tenants" / "portals" / PORTAL / "area.geojson").read_text()
    lat, lon = geo.centre(area)
    client = georeport.GeoReport(live["root"], jurisdiction=PORTAL)
    ids = []
    for service in client.get_service_list():
        status, body = _post(live["port"], {
            "api_key": live["key"], "jurisdiction_id": PORTAL, "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}", "service_code": service["service_code"],
            "description": f"georeport test: {service['service_name']}"})
        if status == 201:
            ids.append(body[0]["service_request_id"])
        if len(ids) == 2:
            return ids
    raise AssertionError("no two services take a report at the portal's centre")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_and_a_definition(live, fmt):
    client = georeport.GeoReport(live["root"], jurisdiction=PORTAL, output_format=fmt)
    services = client.get_service_list()
    assert len(services) > 1
    codes = [s["service_code"] for s in services]
    assert all(isinstance(c, str) and c for c in codes)
    definition = client.get_service_definition(codes[0])
    assert definition["service_code"] == codes[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_requests_with_filters_and_by_id(live, filed, fmt):
    client = georeport.GeoReport(live["root"], jurisdiction=PORTAL, output_format=fmt)
    listed = client.get_service_requests()
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one is a dict
    assert [r["service_request_id"] for r in listed] == sorted(filed, key=int, reverse=True)
    one = client.get_service_requests(service_request_id=filed[0])
    one = one[0] if isinstance(one, list) else one
    assert one["service_request_id"] == filed[0]
    by_id = client.get_service_request(filed[1])
    assert by_id["service_request_id"] == filed[1]
    assert by_id["status"] == "open"
    code = by_id["service_code"]
    same = client.get_service_requests(service_code=code, status="open")
    same = same if isinstance(same, list) else [same]
    assert [r["service_request_id"] for r in same] == [filed[1]]
    if fmt == "json":  # (its XML path cannot read an empty list: xmltodict gives None)
        assert client.get_service_requests(status="closed") == []


def test_georeport_sees_a_90_day_range_refused(live):
    client = georeport.GeoReport(live["root"], jurisdiction=PORTAL)
    with pytest.raises(Exception) as refused:  # requests' HTTPError on the 400
        client.get_service_requests(start_date="2024-01-01T00:00:00Z",
                                    end_date="2024-06-01T00:00:00Z")
    assert "400" in str(refused.value)


def test_the_cli_lists_and_revokes_the_key(live, filed):
    listed = live_portal.run(live["env"], "open311", "keys", "list", PORTAL)
    prefix = live["key"].split("_")[1]
    assert f"o311_{prefix}_…" in listed and "live" in listed and live["key"] not in listed
    key_id = listed.split()[0]
    live_portal.run(live["env"], "open311", "keys", "revoke", PORTAL, key_id)
    status, body = _post(live["port"], {"api_key": live["key"], "service_code": "x"})
    assert status == 403
    assert body == [{"code": 403, "description": "This api_key is not valid here."}]
    missing = run_portal(["open311", "keys", "revoke", PORTAL, "999"], live["env"])
    assert missing.returncode == 1 and "has no key 999" in missing.stderr
