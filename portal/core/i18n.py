"""Languages: the catalogs we ship, choosing one for a request, and translating with it.

The active locale lives in a context variable set by the locale middleware (or by
`use_locale` for mail and CLI), so templates, domain messages and emails all translate
through the same `gettext`/`ngettext` without passing the locale around.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.support import NullTranslations, Translations

from portal.core.errors import Message

TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "translations"

# Every language Reportal ships; a tenant offers a subset.
SUPPORTED = ("en", "es", "zh_Hans", "vi", "ar", "ht", "pt_BR", "fr", "ko", "ru")
_TAG = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,2}$")

_current: ContextVar[str] = ContextVar("reportal_locale", default="en")


def normalise(tag: str | None) -> str | None:
    """Map a BCP 47 or POSIX tag to one of SUPPORTED ('pt-br' -> 'pt_BR', 'zh-CN' -> 'zh_Hans')."""
    if not tag or not _TAG.match(tag.strip()):
        return None
    tag = tag.strip().replace("-", "_")
    parts = tag.split("_")
    lang = parts[0].lower()
    rest = [p for p in parts[1:]]
    if lang == "zh":
        if any(p.lower() in ("hant", "tw", "hk", "mo") for p in rest):
            return None
        return "zh_Hans"
    if lang == "pt":
        return "pt_BR"
    candidate = lang if not rest else f"{lang}_{rest[0].upper() if len(rest[0]) == 2 else rest[0]}"
    if candidate in SUPPORTED:
        return candidate
    return lang if lang in SUPPORTED else None


def parse_accept_language(header: str) -> list[str]:
    """Tags from an Accept-Language header, best first (q=0 dropped, bad parts ignored)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        bits = part.strip().split(";")
        tag = bits[0].strip()
        q = 1.0
        for param in bits[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and q > 0:
            weighted.append((-q, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    offered: list[str], default: str, explicit: str | None = None, cookie: str | None = None,
    accept_language: str = "",
) -> str:
    """Explicit choice, then cookie, then Accept-Language, all within `offered`; else default."""
    for candidate in (explicit, cookie):
        found = normalise(candidate)
        if found in offered:
            return found
    for tag in parse_accept_language(accept_language or ""):
        found = normalise(tag)
        if found in offered:
            return found
    return default


@lru_cache(maxsize=32)
def translations_for(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    catalog = Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")
    return catalog


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(locale)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, **params: object) -> str:
    text = translations_for(current_locale()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    params.setdefault("num", n)
    return translations_for(current_locale()).ngettext(singular, plural, n) % params


def translate(message: Message) -> str:
    """Translate a domain Message into the active locale."""
    return gettext(message.msgid, **message.params)


def babel_locale(locale: str | None = None) -> Locale:
    return _parsed_locale(locale or current_locale())


@lru_cache(maxsize=64)
def _parsed_locale(locale: str) -> Locale:
    # Parsing is not free, and a page formats dozens of numbers and dates.
    return Locale.parse(locale)


def html_lang(locale: str) -> str:
    """`zh_Hans` -> `zh-Hans`, `pt_BR` -> `pt-BR` for the lang attribute."""
    return locale.replace("_", "-")


def text_direction(locale: str) -> str:
    return "rtl" if babel_locale(locale).character_order == "right-to-left" else "ltr"


def language_name(locale: str) -> str:
    """The language's own name for itself, as a switcher shows it."""
    name = babel_locale(locale).display_name or locale
    return name[:1].upper() + name[1:]
