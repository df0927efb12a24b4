"""Per-language tenant content: pick the text for a locale, falling back sensibly."""

from __future__ import annotations


def localized(texts: dict | None, locale: str, default_locale: str = "en") -> str:
    """Text for `locale`, else its base language, else the default language, else any."""
    if not texts:
        return ""
    if locale in texts and texts[locale]:
        return texts[locale]
    base = locale.split("_")[0].split("-")[0]
    for key, value in texts.items():
        if value and key.split("_")[0].split("-")[0] == base:
            return value
    if texts.get(default_locale):
        return texts[default_locale]
    return next((v for v in texts.values() if v), "")
