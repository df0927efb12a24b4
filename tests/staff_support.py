"""Signing people in and giving them roles, as the product does it: through the outbox."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import Body, OutboxMessage, Tenant
from portal.staff import accounts
from tests.http_support import csrf

LINK = re.compile(r"(https?://\S+/signin/confirm\?token=(\S+))")


def grant(db, email: str, role: str, *, body: str | None = None,  # noqa: ANN001
          portal: str | None = None) -> None:
    with db.session() as s:
        b = s.scalars(select(Body).where(Body.slug == body)).one() if body else None
        t = s.scalars(select(Tenant).where(Tenant.slug == portal)).one() if portal else None
        accounts.add_role(s, email, role, tenant=t, body=b)


def last_link(db, email: str) -> tuple[str, str]:  # noqa: ANN001
    """(link, token) from the newest sign-in mail to `email`."""
    with db.session() as s:
        message = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == email, OutboxMessage.kind == "signin")
            .order_by(OutboxMessage.id.desc())).first()
    assert message is not None, f"no sign-in mail for {email}"
    match = LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(1), match.group(2)


def request_link(client, email: str):  # noqa: ANN001, ANN201
    token = csrf(client.get("/signin").text)
    return client.post("/signin", data={"csrf_token": token, "email": email})


def confirm(client, token: str):  # noqa: ANN001, ANN201
    page = client.get(f"/signin/confirm?token={token}")
    assert page.status_code == 200, page.text
    return client.post("/signin/confirm", data={"csrf_token": csrf(page.text), "token": token})


def sign_in(client, db, email: str) -> None:  # noqa: ANN001
    assert request_link(client, email).status_code == 200
    _, token = last_link(db, email)
    response = confirm(client, token)
    assert response.status_code == 303, response.text


def form_token(client, path: str) -> str:  # noqa: ANN001
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf(page.text)
