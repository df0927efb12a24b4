"""The translation catalogs are complete, consistent and cover every visible string.

Fails on: a message extracted from the code that a shipped catalog lacks or leaves empty; a
fuzzy message; a placeholder that differs between a message and its translation; text in a
template that is not marked for translation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.core import catalogs
from portal.core.i18n import SUPPORTED, TRANSLATIONS_DIR

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%[sdr]")
SHIPPED = [code for code in SUPPORTED if code != "en"]
TEMPLATE_DIRS = [Path("portal/templates"), Path("widgets/templates")]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory):
    """Extract afresh from the code, so a string added without a catalog update fails."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    original = catalogs.POT
    catalogs.POT = pot
    try:
        catalogs.extract()
    finally:
        catalogs.POT = original
    with pot.open("rb") as handle:
        return read_po(handle)


def placeholders(text: str) -> set[str]:
    return {m.group(1) or m.group(0) for m in PLACEHOLDER.finditer(text)}


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_message_is_translated_and_consistent(extracted, locale):
    path = catalogs.po_path(locale)
    assert path.is_file(), f"{locale}: no catalog at {path}"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    problems = []
    for message in extracted:
        if not message.id:
            continue
        found = catalog.get(message.id)
        key = message.id if isinstance(message.id, str) else message.id[0]
        if found is None:
            problems.append(f"missing: {key!r}")
            continue
        if found.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {key!r}")
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set().union(*(placeholders(i) for i in ids))
        for s in strings:
            extra = placeholders(s) - expected
            # Plural forms may drop the count (e.g. "one" written as a word), nothing else.
            missing = expected - placeholders(s) - ({"num"} if len(ids) > 1 else set())
            if extra or missing:
                problems.append(f"placeholders differ in {key!r}: {s!r}")
    assert not problems, f"{locale}: {len(problems)} problems\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("locale", SHIPPED)
def test_catalogs_have_the_plural_rules_of_their_language(locale):
    from babel.messages.plurals import get_plural

    with catalogs.po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    assert catalog.num_plurals == get_plural(locale).num_plurals
    assert catalog.plural_expr == get_plural(locale).plural_expr


BLOCKS = re.compile(
    r"{#.*?#}|{%-?\s*trans\b.*?endtrans\s*-?%}"
    r"|{%\s*block \w+_class\s*%}.*?{%\s*endblock\s*%}"
    r"|{{.*?}}|{%.*?%}|<script.*?</script>|<style.*?</style>",
    re.S,
)
TAG = re.compile(r"<[^>]*>")
VISIBLE_ATTR = re.compile(r'\b(?:alt|title|aria-label|placeholder|label)="([^"{]*[A-Za-z][^"{]*)"')


def unmarked_text(source: str) -> list[str]:
    found = [m.group(1) for m in VISIBLE_ATTR.finditer(source)]
    text = TAG.sub(" ", BLOCKS.sub(" ", source))
    found += [t.strip() for t in re.split(r"\s{2,}|\n", text)
              if re.search(r"[^\W\d_]", t) and '="' not in t]  # attribute fragments are code
    return found


def test_no_template_shows_text_that_is_not_marked_for_translation():
    problems = []
    for folder in TEMPLATE_DIRS:
        for path in sorted(folder.rglob("*.html")):
            for text in unmarked_text(path.read_text(encoding="utf-8")):
                problems.append(f"{path}: {text!r}")
    assert not problems, "\n".join(problems)


def test_the_scanner_finds_unmarked_text():
    assert unmarked_text('<p>{{ _("Fine") }}</p><h1>Oops</h1><img alt="Bad">') == ["Bad", "Oops"]


def test_compiled_catalogs_are_not_committed():
    import subprocess

    tracked = subprocess.run(["git", "ls-files", str(TRANSLATIONS_DIR)], capture_output=True,
                             text=True).stdout
    assert ".mo" not in tracked
