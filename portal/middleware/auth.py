"""Who is signed in: read the session's user, check its generation, attach it to the request.

Runs inside the session middleware. The session holds `uid` and `gen`; a user whose
`session_generation` moved on (signed out everywhere) or who no longer exists is signed out
here, on this very request. `request.state.user` is the `User` with its roles loaded, or None;
`request.state.staff_area` says whether this portal's staff area has anything for them (the
header's "Staff" link).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from portal.core.db import Database
from portal.staff.accounts import load_user
from portal.staff.permissions import has_staff_area


class AuthMiddleware:
    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app, self.db = app, db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["user"] = None
        state["staff_area"] = False
        session = scope.get("session")
        uid = session.get("uid") if session is not None else None
        if uid is not None and state.get("tenant") is not None:
            with self.db.session() as db_session:
                user = load_user(db_session, int(uid)) if str(uid).isdigit() else None
                if user is not None:
                    db_session.expunge_all()
            if user is None or session.get("gen") != user.session_generation:
                session.clear()
            else:
                state["user"] = user
                state["staff_area"] = has_staff_area(user, state["tenant"])
        await self.app(scope, receive, send)
