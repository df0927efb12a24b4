"""Translator workflow: extract messages, update catalogs, compile them.

`python -m portal.core.catalogs update` extracts every marked string (Python `_`/`N_`/`gettext`,
Jinja `{% trans %}` and `_()`) into `translations/messages.pot` and merges it into each
`translations/<locale>/LC_MESSAGES/messages.po`; `compile` builds the `.mo` files (never
committed; `make install` and start-up build them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.core.i18n import SUPPORTED, TRANSLATIONS_DIR

ROOT = TRANSLATIONS_DIR.parent
POT = TRANSLATIONS_DIR / "messages.pot"
MAPPING = TRANSLATIONS_DIR / "babel.cfg"
KEYWORDS = ["_", "N_", "gettext", "ngettext:1,2", "lazy_gettext"]


def extract() -> None:
    args = ["pybabel", "-q", "extract", "-F", str(MAPPING), "-o", str(POT),
            "--no-location", "--sort-output", "--project", "Reportal", "--no-wrap"]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    # Scan from the repo root so babel.cfg's patterns (portal/**, widgets/**, themes/**) apply;
    # dot-folders such as .venv are skipped by Babel.
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run([*args, "."])
    finally:
        os.chdir(cwd)


def po_path(locale: str) -> Path:
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"


def update() -> None:
    extract()
    for locale in SUPPORTED:
        if locale == "en":
            continue
        command = "update" if po_path(locale).is_file() else "init"
        CommandLineInterface().run(["pybabel", "-q", command, "-i", str(POT), "-d",
                                    str(TRANSLATIONS_DIR), "-l", locale, "--no-wrap"])


def compile_all() -> int:
    count = 0
    for locale in SUPPORTED:
        po = po_path(locale)
        if not po.is_file():
            continue
        mo = po.with_suffix(".mo")
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        with mo.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        count += 1
    return count


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "compile"
    if action == "update":
        update()
    elif action == "extract":
        extract()
    elif action == "compile":
        print(f"compiled {compile_all()} catalogs")
    else:
        print("usage: python -m portal.core.catalogs [extract|update|compile]")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
