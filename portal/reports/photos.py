"""Photo intake: check, decode safely, strip metadata, resize, store by content hash.

Only JPEG, PNG and WebP are accepted. Decoding runs under a pixel limit so a small file that
expands to gigapixels (a decompression bomb) is refused. What we store holds the pixels and,
when the upload had an RGB one, its colour profile (ICC) — nothing else: no EXIF (GPS
included), XMP, IPTC, JPEG comments, PNG text chunks or WebP metadata. Re-encoding alone is
not enough for that (Pillow's JPEG writer copies the source's comment), so the pixels are
moved into a fresh image first. Files are named by the hash of what we store, so the same photo
twice is stored once and a retried upload writes nothing new.

Files are written before the rows that name them (a row never names a missing file), inside
the caller's transaction: if that transaction rolls back, the files this save created are
removed again, unless a committed row names the same photo (the same picture sent by
someone else meanwhile).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event, select, union_all
from sqlalchemy.orm import Session, SessionTransaction

from portal.core.errors import N_, DomainError
from portal.models import Issue, ModerationAction, Update

log = logging.getLogger("reportal.photos")

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo decodes; anything larger is refused
DISPLAY_SIZE = 1600
THUMB_SIZE = 320


class PhotoError(DomainError):
    pass


@dataclass(frozen=True)
class PreparedPhoto:
    digest: str
    display: bytes
    thumb: bytes


def prepare(data: bytes, max_bytes: int) -> PreparedPhoto:
    """Validate and re-encode an upload; raise PhotoError with a message for the resident."""
    if len(data) > max_bytes:
        raise PhotoError(
            N_("The photo is too large: the limit is %(mb)s MB."), mb=max_bytes // (1024 * 1024)
        )
    if not data:
        raise PhotoError(N_("This photo file is empty."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in ACCEPTED_FORMATS:
                    raise PhotoError(N_("Photos must be JPEG, PNG or WebP images."))
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError(N_("The photo has too many pixels to process."))
                probe.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                profile = _rgb_profile(img.info.get("icc_profile"))
                img = ImageOps.exif_transpose(img)
                rgb = _flatten(img)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(N_("The photo has too many pixels to process.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(
            N_("This file is not a photo we can read. Use a JPEG, PNG or WebP image.")
        ) from None
    display = _encode(rgb, DISPLAY_SIZE, profile)
    thumb = _encode(rgb, THUMB_SIZE, profile)
    return PreparedPhoto(hashlib.sha256(display).hexdigest()[:40], display, thumb)


def _rgb_profile(profile: object) -> bytes | None:
    """The upload's ICC profile if it describes RGB data (header bytes 16-19 name the colour
    space); a CMYK or grey profile would be wrong on the RGB pixels we write."""
    if isinstance(profile, bytes) and len(profile) >= 128 and profile[16:20] == b"RGB ":
        return profile
    return None


def _flatten(img: Image.Image) -> Image.Image:
    """Pixels only, on white where transparent, in a fresh image: `convert` keeps the source's
    `info` (comments, XMP, text chunks), which the JPEG writer would copy out again."""
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", img.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    pixels = img.convert("RGB")
    return Image.frombytes("RGB", pixels.size, pixels.tobytes())


def _encode(img: Image.Image, longest: int, profile: bytes | None) -> bytes:
    copy = img.copy()
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    extra = {"icc_profile": profile} if profile else {}
    copy.save(out, "JPEG", quality=82, optimize=True, progressive=True, **extra)
    return out.getvalue()


DIGEST = re.compile(r"[0-9a-f]{40}")


def is_digest(text: str) -> bool:
    """Whether `text` has the shape of a stored photo's name."""
    return DIGEST.fullmatch(text) is not None


def path_for(media_dir: Path, digest: str, variant: str = "display") -> Path:
    suffix = "" if variant == "display" else f"-{variant}"
    return media_dir / digest[:2] / f"{digest}{suffix}.jpg"


def save(prepared: PreparedPhoto, media_dir: Path, session: Session | None = None) -> str:
    """Write both sizes atomically (temp file, then rename); return the digest.

    With `session`, the files this call created are removed if the session's transaction
    rolls back (see the module docstring).
    """
    created = []
    for variant, payload in (("display", prepared.display), ("thumb", prepared.thumb)):
        target = path_for(media_dir, prepared.digest, variant)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(payload)
        os.replace(tmp, target)
        created.append(target)
    if session is not None and created:
        _pending(session).append((prepared.digest, created))
    return prepared.digest


_PENDING = "reportal.photo_files_created"


def _pending(session: Session) -> list[tuple[str, list[Path]]]:
    """The files written in this session's open transaction, watched until it ends."""
    if not session.in_transaction():
        session.begin()  # begun now, so that its end is seen even if nothing else runs in it
    if _PENDING not in session.info:
        session.info[_PENDING] = []
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_transaction_end", _ended)
    return session.info[_PENDING]


def _committed(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release commits nothing yet
        session.info[_PENDING].clear()


def _ended(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info[_PENDING]
    if transaction.parent is not None or not pending:
        return
    # The transaction ended without committing: its rows are gone, so are its files.
    files = list(pending)
    pending.clear()
    digests = [digest for digest, _paths in files]
    try:
        with session.get_bind().connect() as conn:
            used = set(conn.scalars(union_all(
                select(Issue.photo).where(Issue.photo.in_(digests)),
                select(Update.photo).where(Update.photo.in_(digests)),
                select(ModerationAction.photo).where(ModerationAction.photo.in_(digests)),
            )))
    except Exception:  # noqa: BLE001 - cannot tell who uses them: keep them
        log.exception("could not check who uses photos %s; keeping the files", digests)
        return
    for digest, paths in files:
        if digest in used:
            continue
        for path in paths:
            path.unlink(missing_ok=True)
