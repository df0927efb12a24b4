"""Data responses are compressed (the map's GeoJSON is most of a map widget's weight); pages
are not, and ETags keep working across encodings."""

from __future__ import annotations

import pytest

from tests.factories import file_report


@pytest.fixture
def issues(session, world):  # noqa: ANN001, ANN201
    for n in range(30):
        file_report(session, "northside", lat=1.6 + n * 0.04, lon=1.0,
                    description=f"Pothole number {n} by the school")
    session.commit()


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_geojson_is_compressed_when_the_browser_accepts_it(client, issues, encoding):
    plain = client.get("/api/issues.geojson", headers={"accept-encoding": "identity"})
    packed = client.get("/api/issues.geojson", headers={"accept-encoding": encoding})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == encoding
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    assert packed.json() == plain.json()  # decoded by the client
    assert "accept-encoding" in packed.headers["vary"].lower()


def test_a_compressed_responses_etag_is_weak_and_still_revalidates(client, issues):
    first = client.get("/api/issues.geojson", headers={"accept-encoding": "br"})
    assert first.headers["etag"].startswith('W/"')
    again = client.get("/api/issues.geojson", headers={"accept-encoding": "br",
                                                       "if-none-match": first.headers["etag"]})
    assert again.status_code == 304


def test_pages_are_never_compressed(client, issues):
    for path in ("/", "/report", "/issues"):
        response = client.get(path, headers={"accept-encoding": "br, gzip"})
        assert "content-encoding" not in response.headers, path


def test_small_responses_are_left_alone(client, world):
    response = client.get("/api/issues.geojson?status=closed", headers={"accept-encoding": "br"})
    assert "content-encoding" not in response.headers
