"""A portal serves a stored photo only where an issue (or public update) using it shows.

Photos are named by digest; knowing one must not let another portal's `/media/…` serve it.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Tenant
from portal.reports import status
from portal.staff import moderation
from tests.conftest import client_for
from tests.factories import file_report, jpeg_bytes


def _files(digest: str) -> list[str]:
    return [f"/media/{digest}.jpg", f"/media/{digest}-thumb.jpg"]


def _codes(app, portal: str, digest: str) -> list[int]:  # noqa: ANN001
    client = client_for(app, f"{portal}.reportal.test")
    return [client.get(path).status_code for path in _files(digest)]


def test_an_issue_photo_is_served_only_by_portals_showing_the_issue(app, db, world, settings):
    with db.session() as s:
        north_only = file_report(s, "northside", 2.5, 1.0, photo=jpeg_bytes((80, 60)),
                                 media_dir=settings.media_dir).photo
        shared = file_report(s, "northside", 1.2, 1.0, photo=jpeg_bytes((90, 60)),
                             media_dir=settings.media_dir).photo
        far = file_report(s, "faraway", 4.5, 4.5, request_type="highway-sign",
                          photo=jpeg_bytes((70, 60)), media_dir=settings.media_dir).photo
    assert _codes(app, "northside", north_only) == [200, 200]
    assert _codes(app, "riverside", north_only) == [404, 404]
    assert _codes(app, "faraway", north_only) == [404, 404]
    # Northside and riverside overlap: an issue in both shows its photo on both.
    assert _codes(app, "northside", shared) == [200, 200]
    assert _codes(app, "riverside", shared) == [200, 200]
    assert _codes(app, "faraway", shared) == [404, 404]
    assert _codes(app, "faraway", far) == [200, 200]
    assert _codes(app, "northside", far) == [404, 404]
    # The same through a path-prefixed portal on the base domain.
    base = client_for(app, "reportal.test")
    assert base.get(f"/t/riverside/media/{north_only}.jpg").status_code == 404
    assert base.get(f"/t/northside/media/{north_only}.jpg").status_code == 200


def test_an_update_photo_follows_its_issue(app, db, world, settings):
    with db.session() as s:
        issue = file_report(s, "northside", 2.5, 1.0)
        row = status.report_fixed(s, issue, "Filled in", "Sam", jpeg_bytes((60, 60)),
                                  settings.media_dir, settings.max_photo_bytes)
        digest = row.photo
    assert digest
    assert _codes(app, "northside", digest) == [200, 200]
    assert _codes(app, "riverside", digest) == [404, 404]


def test_a_photo_hidden_on_an_issue_stays_hidden_everywhere(app, db, world, settings):
    with db.session() as s:
        north = s.scalars(select(Tenant).where(Tenant.slug == "northside")).one()
        issue = file_report(s, "northside", 1.2, 1.0, photo=jpeg_bytes((50, 60)),
                            media_dir=settings.media_dir)
        digest = issue.photo
        moderation.hide_photo(s, issue, digest, north, None, "a face")
    assert _codes(app, "northside", digest) == [404, 404]
    assert _codes(app, "riverside", digest) == [404, 404]
