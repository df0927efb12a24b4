"""Reading what a user sees in an HTML response."""

from __future__ import annotations

import re

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="submission_key" value="([^"]+)"')


def csrf(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def form_tokens(client, path: str) -> dict[str, str]:  # noqa: ANN001
    html = client.get(path).text
    return {"csrf_token": csrf(html), "submission_key": KEY.search(html).group(1)}


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""
