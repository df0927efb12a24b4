"""The README's settings table names every environment variable the settings module reads."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme_table():
    source = (REPO / "portal" / "core" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'env(?:\.get)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'_positive\(env, "([A-Z][A-Z0-9_]+)"', source))
    assert {"PUBLIC_URL", "RATE_LIMITS", "STATIC_BUILD_DIR", "TENANTS_DIR"} <= names
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("| variable |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", table, re.M))
    listed |= set(re.findall(r"^\| `[A-Z0-9_]+`, `([A-Z][A-Z0-9_]+)`", table, re.M))
    assert names - listed == set()
