"""Build the static folder WhiteNoise serves: content-hashed names, a manifest, .gz and .br.

Sources are `static/` (our CSS, JS, images) and the Leaflet files from the `xstatic-leaflet`
package (no CDN). Every built file carries a hash in its name, so it can be cached forever;
`manifest.json` maps the logical name (`css/portal.css`) to the built one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import brotli
import xstatic.pkg.leaflet as xleaflet

from portal.core.settings import REPO_ROOT

SOURCE = REPO_ROOT / "static"
WIDGET_SOURCE = REPO_ROOT / "widgets" / "static"
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt", ".html"}
LEAFLET_FILES = ("leaflet.js", "leaflet.css", "images/marker-icon.png", "images/layers.png")


def _sources() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for root in (SOURCE, WIDGET_SOURCE):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and "build" not in path.relative_to(root).parts[:1]:
                files[path.relative_to(root).as_posix()] = path
    leaflet_dir = Path(xleaflet.BASE_DIR)
    for name in LEAFLET_FILES:
        if (leaflet_dir / name).is_file():
            files[f"vendor/leaflet/{name}"] = leaflet_dir / name
    return files


def fingerprint() -> str:
    """Hash of every source file's name and bytes: changes whenever a rebuild is needed."""
    digest = hashlib.sha256()
    for name, path in _sources().items():
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def hashed_name(name: str, data: bytes) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}" if dot else name


def build(target: Path) -> dict[str, str]:
    """(Re)build `target` if the sources changed; return the manifest."""
    manifest_path = target / "manifest.json"
    stamp = fingerprint()
    if manifest_path.is_file():
        current = json.loads(manifest_path.read_text())
        if current.get("_fingerprint") == stamp:
            return current
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    manifest: dict[str, str] = {"_fingerprint": stamp}
    for name, path in _sources().items():
        data = path.read_bytes()
        out_name = name if name.startswith("vendor/leaflet/images/") else hashed_name(name, data)
        out = tmp / out_name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        if path.suffix in COMPRESSIBLE:
            (tmp / f"{out_name}.gz").write_bytes(gzip.compress(data, 9, mtime=0))
            (tmp / f"{out_name}.br").write_bytes(brotli.compress(data, quality=11))
        manifest[name] = out_name
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return manifest


if __name__ == "__main__":
    from portal.core.settings import Settings

    built = build(Settings.from_env().static_build_dir)
    print(f"built {len(built) - 1} static files")
