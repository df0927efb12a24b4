"""A report's status from the link in its receipt: no sign-in, nothing private.

The signed token (`portal.mail.status_links`) is the credential; it opens only the issue it
names, only on the portal it was filed on, and only while that portal shows the issue.
"""

from __future__ import annotations

from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.core.errors import N_, NotFound
from portal.mail import status_links
from portal.models import Issue
from portal.reports import status
from portal.tenancy.scoping import public_issues
from portal.web.request_context import tenant
from portal.web.templating import render

BAD_LINK = N_("This status link does not work here. Use the link from your receipt email, "
              "on the portal you reported on.")


def report_status(request: Request) -> Response:
    portal = tenant(request)
    found = status_links.read_token(request.app.state.settings.secret_key,
                                    request.path_params["token"])
    if found is None or found[1] != portal.slug:
        raise NotFound(BAD_LINK)
    with request.app.state.db.session() as session:
        issue = session.scalars(public_issues(portal).where(Issue.id == found[0]).options(
            selectinload(Issue.updates), selectinload(Issue.body),
            selectinload(Issue.request_type))).first()
        if issue is None:  # not (or no longer) shown on this portal
            raise NotFound(N_("There is no such issue on this portal."))
        history = status.public_history(issue)
    return render(request, "report_status.html", {"issue": issue, "history": history})


routes = [
    Route("/reports/status/{token}", report_status, methods=["GET"], name="report_status"),
]
