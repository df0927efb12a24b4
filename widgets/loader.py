"""The embed loader as served: minified bytes, compressed copies, ETag, SRI and versions.

`widgets/embed.js` is the readable source. `minify` only strips what cannot matter (comment
lines, indentation, line breaks, spaces next to punctuation outside string literals), so the
source must end every statement with `;` and keep comments on lines of their own.

Two URLs serve it: `/embed.js` (evergreen, short max-age + ETag, so fixes roll out within
minutes) and `/embed/v1.<hash>.js` (immutable, pinned with the SRI hash the README publishes).
Pinned versions stay servable from `widgets/releases/embed.v1.<hash>.js`: every published
version is kept there (`python -m widgets.loader --release` adds the current build), so
editing `embed.js` never breaks a page that pinned an older one. Then add the new line that
`python -m widgets.loader` prints to the README's table (a test checks it).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import brotli

SOURCE = Path(__file__).resolve().parent / "embed.js"
RELEASES = Path(__file__).resolve().parent / "releases"
PROTOCOL = 1  # the postMessage protocol; a breaking change gets a new /embed/v2.* line

_STRING = re.compile(r"(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')")
_AROUND_PUNCT = re.compile(r"\s*([{}()\[\];,=:<>+\-*&|!?])\s*")


def minify(source: str) -> str:
    """Strip comments and whitespace from hand-tight JavaScript (see the module docstring)."""
    lines = []
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith(("/*", "*", "//")):
            continue
        parts = _STRING.split(line)
        for i in range(0, len(parts), 2):  # even parts are outside string literals
            parts[i] = _AROUND_PUNCT.sub(r"\1", parts[i])
        lines.append("".join(parts))
    return "".join(lines) + "\n"


@dataclass(frozen=True)
class LoaderBuild:
    """One version of the loader, ready to serve."""

    body: bytes
    gzip: bytes
    brotli: bytes

    @property
    def digest(self) -> str:
        """Short content hash used in the versioned name and the ETag."""
        return hashlib.sha256(self.body).hexdigest()[:12]

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    @property
    def versioned_name(self) -> str:
        return f"v{PROTOCOL}.{self.digest}.js"

    @property
    def sri(self) -> str:
        """Subresource Integrity value for `<script integrity=…>` (over the decoded body)."""
        return "sha384-" + base64.b64encode(hashlib.sha384(self.body).digest()).decode()


def build_bytes(body: bytes) -> LoaderBuild:
    return LoaderBuild(body, gzip.compress(body, 9, mtime=0), brotli.compress(body, quality=11))


@lru_cache(maxsize=4)
def _current(mtime_ns: int) -> LoaderBuild:
    return build_bytes(minify(SOURCE.read_text(encoding="utf-8")).encode())


def current() -> LoaderBuild:
    """The loader built from `widgets/embed.js` (rebuilt when the source file changes)."""
    return _current(SOURCE.stat().st_mtime_ns)


def versioned(name: str) -> LoaderBuild | None:
    """The loader for a `/embed/<name>` URL: the current one or a kept release."""
    build = current()
    if name == build.versioned_name:
        return build
    if not re.fullmatch(rf"v{PROTOCOL}\.[0-9a-f]{{12}}\.js", name):
        return None
    kept = RELEASES / f"embed.{name}"
    if not kept.is_file():
        return None
    return build_bytes(kept.read_bytes())


def main(argv: list[str] | None = None) -> int:
    """Print the figures and SRI line for the README; `--release` keeps the current build."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    build = current()
    if "--release" in args:
        RELEASES.mkdir(exist_ok=True)
        (RELEASES / f"embed.{build.versioned_name}").write_bytes(build.body)
    print(f"raw {len(build.body)} B, gzip {len(build.gzip)} B, brotli {len(build.brotli)} B")
    print(f"| `/embed/{build.versioned_name}` | `{build.sri}` |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
