"""Who is signed in: find this portal's session token in the cookie, check it on the server.

Runs inside the session middleware. The cookie maps portal ids to session tokens
(`portal.web.session_tokens`); only the token for the request's portal is looked at, and
`portal.staff.sessions` accepts it only if its row is alive and belongs to this portal. A token
that no longer works (signed out, elsewhere too, or lapsed) is dropped from the cookie here, on
this very request. `request.state.user` is the `User` with its roles loaded, or None;
`request.state.staff_area` says whether this portal's staff area has anything for them (the
header's "Staff" link).

Sessions are looked up on the primary (they must be current: a session signed out a moment
ago opens nothing), and on the read replica only while the primary cannot be reached; there
the session's use is not recorded, as nothing can be written.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from portal.core.db import Database, DatabaseUnavailable, Reads, on_replica
from portal.staff import sessions
from portal.staff.permissions import has_staff_area
from portal.web import session_tokens
from portal.web.unavailable import unavailable_text


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
        cookie, tenant = scope.get("session"), state.get("tenant")
        token = session_tokens.token_for(cookie, tenant.id) if tenant is not None else None
        if token is not None:
            try:
                with self.db.session(Reads.FRESH) as db_session:
                    user = sessions.user_for(db_session, token, tenant.id,
                                             touch=not on_replica(db_session))
                    if user is not None:
                        db_session.expunge_all()
            except DatabaseUnavailable:
                await unavailable_text()(scope, receive, send)
                return
            if user is None:
                session_tokens.forget(cookie, tenant.id)
            else:
                state["user"] = user
                state["staff_area"] = has_staff_area(user, tenant)
        await self.app(scope, receive, send)
