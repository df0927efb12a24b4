"""Times read in the portal's own zone: shown without seconds, typed as on the wall clock."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core import i18n, time_zones
from portal.core.errors import ConfigError
from portal.models import Announcement, Tenant
from portal.tenancy import tenant_files
from portal.web import formatting
from tests.conftest import client_for
from tests.factories import file_report
from tests.http_support import csrf
from tests.staff_support import grant, sign_in

TENANTS = Path(__file__).resolve().parents[1] / "tenants"
REPORTED = datetime(2026, 11, 20, 8, 47, 7, tzinfo=UTC)  # 03:47:07 in New Haven (EST)


def test_times_show_in_the_portals_zone_to_the_minute():
    with time_zones.use_time_zone("America/New_York"), i18n.use_locale("en"):
        shown = formatting.datetime_(REPORTED)
        assert "3:47" in shown and "AM" in shown and "8:47" not in shown and ":07" not in shown
        assert "Nov 20, 2026" in shown
        assert formatting.date(datetime(2026, 11, 21, 3, 30, tzinfo=UTC)) == "Nov 20, 2026"
        assert formatting.iso(REPORTED) == "2026-11-20T08:47+00:00"
    with time_zones.use_time_zone("Asia/Seoul"), i18n.use_locale("ko"):
        assert "5:47" in formatting.datetime_(REPORTED)  # 17:47 in Seoul, in Korean words


def test_typed_local_times_become_utc_even_across_a_clock_change():
    ny = "America/New_York"
    assert time_zones.from_local(datetime(2026, 7, 1, 14, 0), ny) == datetime(
        2026, 7, 1, 18, 0, tzinfo=UTC)
    assert time_zones.from_local(datetime(2026, 12, 1, 14, 0), ny) == datetime(
        2026, 12, 1, 19, 0, tzinfo=UTC)
    # 02:30 on 8 March 2026 never happens in New York: it lands just after the jump.
    assert time_zones.from_local(datetime(2026, 3, 8, 2, 30), ny) == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC)


def test_every_shipped_portal_declares_its_zone_and_a_wrong_one_is_refused(session, settings,
                                                                           tmp_path):
    for folder in (TENANTS / "portals").iterdir():
        data = json.loads((folder / "portal.json").read_text(encoding="utf-8"))
        assert time_zones.is_known(data.get("time_zone", "")), folder.name
    folder = tmp_path / "bad-zone"
    shutil.copytree(TENANTS / "portals" / "ward-7", folder)
    data = json.loads((folder / "portal.json").read_text(encoding="utf-8"))
    data.update(slug="bad-zone", hosts=["badzone.example.test"], time_zone="Eastern")
    (folder / "portal.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        tenant_files.load_portal(session, folder, settings.themes_dir)
    assert "Eastern" in str(exc.value) and "America/New_York" in str(exc.value)


def test_a_portal_without_a_zone_loads_in_utc_with_a_warning(session, settings, tmp_path,
                                                            caplog):
    folder = tmp_path / "no-zone"
    shutil.copytree(TENANTS / "portals" / "ward-7", folder)
    data = json.loads((folder / "portal.json").read_text(encoding="utf-8"))
    data.pop("time_zone")
    data.update(slug="no-zone", hosts=["nozone.example.test"])
    (folder / "portal.json").write_text(json.dumps(data), encoding="utf-8")
    tenant = tenant_files.load_portal(session, folder, settings.themes_dir)
    assert tenant.time_zone == "UTC"
    assert "no time_zone" in caplog.text


@pytest.fixture
def eastern(app, db, world):
    with db.session() as s:
        s.scalars(select(Tenant).where(Tenant.slug == "northside")).one().time_zone = \
            "America/New_York"
    return client_for(app, "northside.reportal.test")


def test_pages_show_local_times_and_the_announcement_form_reads_them(app, db, eastern):
    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0)
        issue.created_at = REPORTED
        issue_id = issue.id
    page = eastern.get(f"/issues/{issue_id}").text
    assert ">Nov 20, 2026, 3:47" in page and "3:47:07" not in page
    assert ", 8:47" not in page  # not the UTC clock
    assert 'datetime="2026-11-20T08:47+00:00"' in page
    listing = eastern.get("/issues").text
    assert 'title="Nov 20, 2026, 3:47' in listing  # a relative time with the exact one

    grant(db, "admin@north.test", "admin", portal="northside")
    sign_in(eastern, db, "admin@north.test")
    form = eastern.get("/staff/announcements").text
    assert "America/New_York" in form and "UTC" not in form.split('for="a-publish"')[1][:80]
    r = eastern.post("/staff/announcements", data={
        "csrf_token": csrf(form), "target": "all", "author": "portal",
        "title_en": "Street fair", "body_en": "Come along",
        "publish_at": "2026-07-01T14:00", "expire_at": "2026-07-02T09:30"})
    assert r.status_code == 303, r.text
    with db.session() as s:
        a = s.scalars(select(Announcement)).one()
        assert time_zones.aware(a.publish_at) == datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
        assert time_zones.aware(a.expire_at) == datetime(2026, 7, 2, 13, 30, tzinfo=UTC)
