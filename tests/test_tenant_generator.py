"""From a boundary file to a live portal by command: `tenants new`, `bodies import`,
`tenants check|list|dump`, and what the loader now refuses (one line each, file and field)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import cli
from portal.core.i18n import translate
from portal.core.settings import REPO_ROOT
from portal.models import Body, Tenant
from portal.reports.reporting import ReportForm, submit_report
from portal.tenancy import tenant_checks, tenant_files
from tests.worlds import box, write_files

DATA = Path("/work/shared/data")
for candidate in (Path(__file__).resolve().parents[2] / "shared" / "data", DATA):
    if candidate.is_dir():
        DATA = candidate
        break
NEW_HAVEN = DATA / "new_haven_neighborhoods.geojson"
needs_data = pytest.mark.skipif(not NEW_HAVEN.is_file(), reason="the shared boundary files "
                                "(../shared/data, see SOURCES.md) are not on this machine")
TYPES = [{"code": "pothole", "name": {"en": "Pothole", "es": "Bache"}},
         {"code": "streetlight", "name": {"en": "Streetlight out", "es": "Farola apagada"}}]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def portal(monkeypatch, capsys):  # noqa: ANN001,ANN201
    """`portal …` run in this process (as the console script does, through `cli.main`),
    so the suite pays no interpreter start per command."""
    def run(settings, tenants_dir: Path, *args: str) -> Ran:  # noqa: ANN001
        for name, value in {"DATABASE_URL": settings.database_url, "LANG": "C",
                            "THEMES_DIR": str(settings.themes_dir),
                            "TENANTS_DIR": str(tenants_dir),
                            "BASE_DOMAIN": "reportal.test"}.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = cli.main(list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)
    return run


def lines(problems) -> list[str]:
    return [p.line(translate) for p in problems]


def edit(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_check_names_every_problem_in_one_line_with_its_file_and_field(session, settings,
                                                                         tmp_path):
    folder = tmp_path / "tenants"
    write_files(folder)
    portals = folder / "portals"
    edit(portals / "northside" / "portal.json", request_types=["pothole", "snow-plough"],
         hosts=["north..example.test"])
    edit(portals / "riverside" / "portal.json", embed_origins=["javascript:alert(1)"])
    # faraway (lon 4..5) is covered by state-roads only up to lon 5; widen it half outside
    (portals / "faraway" / "area.geojson").write_text(json.dumps(box(4, 4, 6, 5)))
    shutil.copytree(portals / "faraway", portals / "lonely")
    edit(portals / "lonely" / "portal.json", slug="lonely", hosts=["faraway.example.test"])
    shutil.copytree(portals / "faraway", portals / "swapped")
    (portals / "swapped" / "area.geojson").write_text(json.dumps(
        box(40.74, -73.99, 40.76, -73.97)))  # Manhattan, latitude first
    edit(portals / "swapped" / "portal.json", slug="swapped", hosts=[])
    shutil.copytree(portals / "faraway", portals / "nobody")
    (portals / "nobody" / "area.geojson").write_text(json.dumps(box(20, 20, 21, 21)))
    edit(portals / "nobody" / "portal.json", slug="nobody", hosts=[], languages=["en", "fr"])

    found = lines(tenant_checks.check_files(session, folder, settings.themes_dir))
    session.rollback()

    assert (f"error: {portals}/northside/portal.json hosts: host 'north..example.test' is "
            "not a valid DNS host name") in found
    assert any(line.startswith(f"error: {portals}/riverside/portal.json embed_origins: ")
               and "'javascript:alert(1)' is not an http(s) origin" in line for line in found)
    assert (f"error: {portals}/lonely/portal.json hosts: host faraway.example.test already "
            "belongs to another portal") in found
    assert any(line.startswith(f"error: {portals}/swapped/area.geojson: latitude and "
                               "longitude look swapped") for line in found)
    assert (f"error: {portals}/nobody/portal.json area: no body covers this portal's area: "
            "nobody can report here; add a body whose area overlaps it") in found
    assert (f"warning: {portals}/faraway/portal.json area: no body covers 50 % of this "
            "portal's area: reports there are refused") in found
    assert (f"warning: {portals}/nobody/portal.json name: no text for the portal's languages "
            "fr (English or the first text is shown instead)") in found
    # northside failed to load on its host, so its request types are not judged twice; the
    # unknown code is caught once its host is fixed:
    edit(portals / "northside" / "portal.json", hosts=[])
    found = lines(tenant_checks.check_files(session, folder, settings.themes_dir))
    session.rollback()
    assert (f"error: {portals}/northside/portal.json request_types: request types "
            "snow-plough are offered by no body covering this portal (its bodies offer: "
            "highway-sign, pothole, streetlight)") in found
    assert session.scalars(select(Tenant)).first() is None  # a check writes nothing


def test_check_exits_non_zero_on_errors_and_zero_on_a_clean_folder(portal, settings, db,
                                                                         tmp_path):
    folder = tmp_path / "tenants"
    write_files(folder)
    clean = portal(settings, folder, "tenants", "check")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip().endswith("0 errors, 6 warnings")  # names in ar, fr missing
    edit(folder / "portals" / "northside" / "portal.json", hosts=["-bad-.example"])
    bad = portal(settings, folder, "tenants", "check")
    assert bad.returncode == 1
    assert "northside/portal.json hosts: host '-bad-.example' is not a valid DNS host name" \
        in bad.stdout
    assert bad.stdout.strip().endswith("1 errors, 5 warnings")


@needs_data
def test_boundary_file_to_first_report_by_command_in_under_a_minute(portal, settings, db,
                                                                     tmp_path):
    """New Haven as a city portal, one body per neighbourhood, a report routed to one."""
    started = time.monotonic()
    folder = tmp_path / "tenants"
    types = tmp_path / "types.json"
    types.write_text(json.dumps(TYPES))
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" role="img" onload="alert(1)">'
                    '<title>NHV</title><script>alert(2)</script><circle r="4"/></svg>')
    refused = portal(settings, folder, "tenants", "new", "nhv", "--kind", "city",
                     "--area", str(NEW_HAVEN), "--name", "New Haven (test)",
                     "--language", "en", "--color", "#ffcc00")
    assert refused.returncode == 1
    assert "nearest passing shade is #8f7200" in refused.stderr
    assert not (folder / "portals" / "nhv").exists()
    made = portal(settings, folder, "tenants", "new", "nhv", "--kind", "city",
                  "--area", str(NEW_HAVEN), "--name", "New Haven (test)",
                  "--name", "es=New Haven (prueba)", "--language", "en", "--language", "es",
                  "--color", "#8f7200", "--host", "nhv.example.org",
                  "--embed-origin", "https://news.example.org/page", "--logo", str(logo))
    assert made.returncode == 0, made.stderr
    assert "made portal nhv" in made.stdout and "https://nhv.reportal.test/" in made.stdout
    assert "no body covers this portal's area" in made.stdout  # the checklist
    assert "no staff yet" in made.stdout
    assert "logo.svg: removed from the logo: <script>, onload" in made.stdout
    imported = portal(settings, folder, "bodies", "import", str(NEW_HAVEN),
                      "--name-property", "name", "--name-template", "{name} works (test)",
                      "--slug-template", "nhv-{name}", "--request-types", str(types),
                      "--contact-email-template", "works@example.org")
    assert imported.returncode == 0, imported.stderr
    assert "made 20 bodies" in imported.stdout and "nhv-fair-haven" in imported.stdout
    with db.session() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "nhv")).one()
        assert tenant.tokens == {"color-primary": "#8f7200"}
        assert tenant.embed_origins == ["https://news.example.org"]
        assert "<title>NHV</title>" in tenant.logo_svg and "script" not in tenant.logo_svg
        issue = submit_report(session, tenant, ReportForm(
            lat="41.3065", lon="-72.9060", request_type="pothole",
            description="A deep pothole by the bridge", submission_key="generator-first"),
            settings.media_dir, 1_000_000)
        body = session.get(Body, issue.request_type.body_id)
        assert body.slug == "nhv-fair-haven"
    assert time.monotonic() - started < 60
    listed = portal(settings, folder, "tenants", "list").stdout
    assert "nhv-fair-haven" in listed and "nhv " in listed
    assert "nhv-fair-haven" in listed.split("Bodies")[1]
    checked = portal(settings, folder, "tenants", "check")
    assert checked.returncode == 0, checked.stdout
    assert "no body covers" not in checked.stdout


@needs_data
def test_the_map_draws_a_light_outline_while_membership_keeps_the_original(app, session,
                                                                          settings, tmp_path):
    from starlette.testclient import TestClient

    folder = tmp_path / "portals" / "nhv"
    folder.mkdir(parents=True)
    (folder / "area.geojson").write_bytes(NEW_HAVEN.read_bytes())
    (folder / "portal.json").write_text(json.dumps({"name": {"en": "NHV"}, "kind": "city",
                                                    "simplify": "50m"}))
    tenant = tenant_files.load_portal(session, folder, settings.themes_dir)
    session.commit()
    assert tenant.display_area_geojson and len(tenant.display_area_geojson) < \
        len(tenant.area_geojson) / 2
    served = TestClient(app, base_url="http://nhv.reportal.test").get("/api/area.geojson")
    assert served.status_code == 200
    assert json.dumps(served.json()["geometry"], separators=(",", ":")) == \
        tenant.display_area_geojson
    # A file loaded with "simplify": "0m" is drawn as it is.
    edit(folder / "portal.json", simplify="0m")
    assert tenant_files.load_portal(session, folder, settings.themes_dir) \
        .display_area_geojson is None


def test_dump_writes_bodies_and_portals_that_load_back_the_same(portal, settings, db, tmp_path):
    folder = tmp_path / "tenants"
    write_files(folder)
    assert portal(settings, folder, "tenants", "load").returncode == 0
    out = tmp_path / "dumped"
    dumped = portal(settings, folder, "tenants", "dump", "--path", str(out))
    assert dumped.returncode == 0, dumped.stderr
    assert "wrote 3 bodies and 3 portals" in dumped.stdout
    body = json.loads((out / "bodies" / "city-works" / "body.json").read_text())
    assert [t["code"] for t in body["request_types"]] == ["pothole", "streetlight"]
    assert body["contact_email"] == "city-works@bodies.test"
    again = portal(settings, out, "tenants", "check", "--path", str(out))
    assert again.returncode == 0, again.stdout
    with db.session() as session:
        before = {b.slug: b.area_geojson for b in session.scalars(select(Body))}
    assert portal(settings, out, "tenants", "load").returncode == 0
    with db.session() as session:
        assert {b.slug: b.area_geojson for b in session.scalars(select(Body))} == before


def test_bodies_import_refuses_a_missing_property_and_duplicate_slugs_writing_nothing(
        portal, settings, db, tmp_path):
    layer = tmp_path / "wards.geojson"
    layer.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {**box(0, 0, 1, 1), "properties": {"ward": "1"}},
        {**box(1, 0, 2, 1), "properties": {"ward": "1"}}]}))
    types = tmp_path / "types.json"
    types.write_text(json.dumps(TYPES))
    folder = tmp_path / "tenants"
    missing = portal(settings, folder, "bodies", "import", str(layer), "--name-property",
                     "member", "--slug-template", "w-{ward}", "--request-types", str(types))
    assert missing.returncode == 1
    assert "the name property 'member' is not a property of the features (they have: ward)" \
        in missing.stderr
    twice = portal(settings, folder, "bodies", "import", str(layer), "--name-property", "ward",
                   "--slug-template", "w-{ward}", "--request-types", str(types))
    assert twice.returncode == 1 and "two features make the slug w-1" in twice.stderr
    assert not (folder / "bodies").exists() or not any((folder / "bodies").iterdir())


def test_tenants_new_refuses_a_taken_host_naming_the_portal_file_and_leaving_no_folder(
        portal, settings, db, tmp_path):
    folder = tmp_path / "tenants"
    write_files(folder)
    assert portal(settings, folder, "tenants", "load").returncode == 0
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps(box(0, 1, 1, 2)))
    taken = portal(settings, folder, "tenants", "new", "dup", "--area", str(area),
                   "--name", "Dup", "--host", "northside.example.test")
    assert taken.returncode == 1
    assert taken.stderr.strip() == (f"portal: {folder}/portals/dup/portal.json hosts: host "
                                    "northside.example.test already belongs to another portal")
    assert sorted(p.name for p in (folder / "portals").iterdir()) == \
        ["faraway", "northside", "riverside"]


def test_hosts_with_a_port_or_an_ip_load_and_are_kept_as_the_middleware_matches_them(
        session, settings, tmp_path):
    folder = tmp_path / "portals" / "p"
    folder.mkdir(parents=True)
    (folder / "area.geojson").write_text(json.dumps(box(0, 0, 1, 1)))
    (folder / "portal.json").write_text(json.dumps({
        "name": {"en": "P"}, "hosts": ["Portal.Example.org.", "127.0.0.1:8001"]}))
    tenant = tenant_files.load_portal(session, folder, settings.themes_dir)
    assert sorted(h.host for h in tenant.hosts) == ["127.0.0.1:8001", "portal.example.org"]
    for bad in ("a b.example", "x.example:0", "ünï.example", "user@x.example"):
        edit(folder / "portal.json", hosts=[bad])
        with pytest.raises(tenant_files.ConfigError, match="not a valid DNS host name"):
            tenant_files.load_portal(session, folder, settings.themes_dir)


def test_the_shipped_demo_tenants_pass_the_check(portal, settings, db):
    # Their city portals offer whole bodies (`nhv-public-works/*`): a key a check must know.
    shipped = portal(settings, REPO_ROOT / "tenants", "tenants", "check")
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    assert shipped.stdout.strip() == "0 errors, 0 warnings"
