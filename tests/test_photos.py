"""Photo intake: formats, limits, bombs, EXIF stripped, stored by content hash; and the
files of a transaction that fails are removed again, unless another row uses them."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from portal.core.errors import ValidationError
from portal.models import Issue
from portal.reports import photos, status
from portal.staff import triage
from tests.factories import file_report, jpeg_bytes, png_bytes


def test_jpeg_is_resized_stored_and_stripped_of_exif(tmp_path):
    prepared = photos.prepare(jpeg_bytes((3000, 2000), exif_gps=True), 10**7)
    digest = photos.save(prepared, tmp_path)
    stored = Image.open(photos.path_for(tmp_path, digest))
    assert max(stored.size) == photos.DISPLAY_SIZE
    assert not stored.getexif()
    thumb = Image.open(photos.path_for(tmp_path, digest, "thumb"))
    assert max(thumb.size) == photos.THUMB_SIZE


def test_same_photo_twice_is_stored_once(tmp_path):
    a = photos.save(photos.prepare(png_bytes(), 10**7), tmp_path)
    b = photos.save(photos.prepare(png_bytes(), 10**7), tmp_path)
    assert a == b
    assert len(list(tmp_path.rglob("*.jpg"))) == 2  # display + thumb


def test_webp_is_accepted():
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, "WEBP")
    assert photos.prepare(out.getvalue(), 10**7).digest


@pytest.mark.parametrize("data,expected", [
    (b"%PDF-1.4 not an image", "not a photo we can read"),
    (jpeg_bytes()[:200], "not a photo we can read"),
    (b"", "empty"),
])
def test_bad_files_are_refused_clearly(data, expected):
    with pytest.raises(photos.PhotoError) as exc:
        photos.prepare(data, 10**7)
    assert expected in str(exc.value)


def test_gif_is_refused_as_a_format():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(photos.PhotoError, match="JPEG, PNG or WebP"):
        photos.prepare(out.getvalue(), 10**7)


def test_oversize_file_is_refused():
    with pytest.raises(photos.PhotoError, match="too large"):
        photos.prepare(b"x" * 2000, 1000)


def test_decompression_bomb_is_refused():
    # A tiny PNG that claims 20000 x 20000 pixels (400 MP).
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 200_000
    with pytest.raises(photos.PhotoError, match="too many pixels"):
        photos.prepare(out.getvalue(), 10**7)


# -- files and transactions -----------------------------------------------------------------


class DatabaseWriteFailed(Exception):
    pass


def media_files(media_dir) -> list[str]:  # noqa: ANN001
    return sorted(p.name for p in media_dir.rglob("*") if p.is_file()) \
        if media_dir.exists() else []


def test_a_report_whose_transaction_fails_leaves_no_photo_files(db, settings, world):
    media = settings.media_dir
    with pytest.raises(DatabaseWriteFailed), db.session() as s:
        file_report(s, "northside", 1.5, 1.0, photo=jpeg_bytes(), media_dir=media)
        assert len(media_files(media)) == 2  # written before the rows that name them
        raise DatabaseWriteFailed  # e.g. the commit fails
    assert media_files(media) == []
    with db.session() as s:
        assert s.scalars(select(Issue)).first() is None


def test_a_fix_report_whose_transaction_fails_leaves_no_photo_files(db, settings, world):
    media = settings.media_dir
    with db.session() as s:
        issue_id = file_report(s, "northside", 1.5, 1.0).id
    with pytest.raises(DatabaseWriteFailed), db.session() as s:
        status.report_fixed(s, s.get(Issue, issue_id), "Done", "", jpeg_bytes((90, 60)), media,
                            10**7)
        assert len(media_files(media)) == 2
        raise DatabaseWriteFailed
    assert media_files(media) == []


def test_a_failed_transaction_keeps_a_photo_another_issue_uses(db, settings, world):
    media = settings.media_dir
    with db.session() as s:
        kept = file_report(s, "northside", 1.5, 1.0, photo=jpeg_bytes(), media_dir=media).photo
    before = media_files(media)
    with pytest.raises(DatabaseWriteFailed), db.session() as s:
        file_report(s, "northside", 1.6, 1.0, photo=jpeg_bytes(), media_dir=media)
        raise DatabaseWriteFailed
    assert media_files(media) == before and any(kept in name for name in before)


def test_files_created_by_a_failed_transaction_stay_if_a_committed_row_now_uses_them(
        db, settings, world):
    """The same picture sent twice at once: the first save writes the files, the second
    finds them; the first then fails and must not take the second's photo with it."""
    media = settings.media_dir
    prepared = photos.prepare(jpeg_bytes(), 10**7)
    with pytest.raises(DatabaseWriteFailed), db.session() as s:
        s.scalars(select(Issue.id)).first()
        photos.save(prepared, media, s)
        with db.session() as other:  # the second request commits first
            file_report(other, "northside", 1.5, 1.0, photo=jpeg_bytes(), media_dir=media)
        raise DatabaseWriteFailed
    assert len(media_files(media)) == 2


def test_a_savepoint_released_inside_a_failed_transaction_still_removes_the_files(
        db, settings, world):
    media = settings.media_dir
    with pytest.raises(DatabaseWriteFailed), db.session() as s:
        file_report(s, "northside", 1.5, 1.0, photo=jpeg_bytes(), media_dir=media)
        with s.begin_nested():  # e.g. a flag or a new user: its release commits nothing
            pass
        raise DatabaseWriteFailed
    assert media_files(media) == []


def test_staff_closing_with_a_photo_a_refused_step_writes_no_file(db, settings, world):
    media = settings.media_dir
    with db.session() as s:
        issue = file_report(s, "northside", 1.5, 1.0)
        triage.set_status(s, issue, "closed", triage.Actor(None))
        issue_id = issue.id
    with pytest.raises(ValidationError) as refused, db.session() as s:
        triage.set_status(s, s.get(Issue, issue_id), "closed", triage.Actor(None),
                          photo=jpeg_bytes(), media_dir=media)
    assert "status" in refused.value.errors
    assert media_files(media) == []


def test_an_empty_photo_file_is_an_error_not_no_photo(db, settings, world):
    with db.session() as s:
        with pytest.raises(ValidationError) as refused:
            file_report(s, "northside", 1.5, 1.0, photo=b"", media_dir=settings.media_dir)
    assert refused.value.errors["photo"].msgid == "This photo file is empty."
