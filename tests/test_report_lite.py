"""The light report form for slow connections: no map library, under 50 KB with its files,
offered on Save-Data and by a link, and it files a report without JavaScript."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import Issue


def test_the_light_form_is_small_has_no_map_library_and_files_a_report(client, db):
    page = client.get("/report/lite")
    assert page.status_code == 200 and "leaflet" not in page.text.lower()
    files = re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', page.text)
    total = len(page.content) + sum(len(client.get(f).content) for f in files)
    assert total < 50 * 1024, total
    full = client.get("/report")
    assert 'href="/report/lite"' in full.text and "leaflet" in full.text.lower()
    saving = client.get("/report", headers={"Save-Data": "on"})
    assert "leaflet" not in saving.text.lower() and "Save-Data" in saving.headers["vary"]
    # Without JavaScript: the place, then the types offered there, then the report.
    step = client.get("/report/lite", params={"lat": "2.0", "lon": "1.0", "step": "place"})
    assert "Pothole" in step.text
    key = re.search(r'name="submission_key" value="([^"]+)"', step.text).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', step.text).group(1)
    rt = re.search(r'name="request_type" value="([^"]*pothole)"', step.text).group(1)
    sent = client.post("/report/lite", data={
        "csrf_token": token, "submission_key": key, "lat": "2.0", "lon": "1.0",
        "request_type": rt, "description": "Sent from the light form"})
    assert sent.status_code == 303 and "/issues/" in sent.headers["location"]
    with db.session() as s:
        assert s.scalars(select(Issue.description)).one() == "Sent from the light form"
