"""The link in a report's receipt that shows the report's status, without signing in.

The token names the issue and the portal it was filed on, signed with its own salt (no
other token verifies here), and has no expiry: a receipt kept for a year must still open.
It carries no contact details, so the page it opens can show nothing private either.

Receipts are composed without a request (`portal.mail.receipts`), so their body holds a
placeholder, `link_placeholder(issue_id)`; `portal.mail.compose` expands it with the
portal's address and a fresh token when the mail is sent.
"""

from __future__ import annotations

import re

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "reportal.report-status"
PATH = "/reports/status/"
_PLACEHOLDER = re.compile(r"\{report_status:(\d{1,12})\}")


def make_token(secret_key: str, issue_id: int, tenant_slug: str) -> str:
    return URLSafeSerializer(secret_key, salt=SALT).dumps([issue_id, tenant_slug])


def read_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """(issue id, portal slug) from a token, or None if it is not a status link we signed."""
    try:
        issue_id, slug = URLSafeSerializer(secret_key, salt=SALT).loads(token[:500])
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(issue_id, int) or isinstance(issue_id, bool) or not isinstance(slug, str):
        return None
    return issue_id, slug


def link_placeholder(issue_id: int) -> str:
    return f"{{report_status:{issue_id}}}"


def expand(text: str, base: str, secret_key: str, tenant_slug: str) -> str:
    """`text` with every placeholder replaced by its absolute, signed link."""
    return _PLACEHOLDER.sub(
        lambda m: f"{base}{PATH}{make_token(secret_key, int(m.group(1)), tenant_slug)}", text)
