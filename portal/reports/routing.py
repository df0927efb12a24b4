"""Which request types are offered at a place, and which body an issue goes to.

Layers of government are bodies with nested or overlapping areas. Where several bodies
containing the point offer the same request type, the most local (smallest area) wins.
Routing needs no external service: point-in-polygon on our own stored areas.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.core.errors import N_, Message, ValidationError
from portal.models import Body, Issue, RequestType, Tenant
from portal.tenancy.membership import bodies_containing


def request_types_at(session: Session, tenant: Tenant, lat: float, lon: float) -> list[RequestType]:
    """Request types a resident may choose at this point: one per code, each that of the body
    the point routes to for it (the most local the portal offers), with that body's name."""
    chosen: dict[str, RequestType] = {}
    for body in sorted(bodies_containing(session, lat, lon), key=lambda b: (b.area_size, b.id)):
        for rt in body.request_types:
            if rt.active and rt.code not in chosen and tenant.offers(rt):
                chosen[rt.code] = rt
    return list(chosen.values())


def route(session: Session, tenant: Tenant, lat: float, lon: float, key: str) -> RequestType:
    """Resolve the chosen request type key to the request type of the responsible body.

    A key naming another body's type with the same code (the pin moved after the list was
    drawn) is routed to the most local body offering that code here.
    """
    if not key:
        raise ValidationError({"request_type": Message(N_("Choose the kind of problem."))})
    offered = request_types_at(session, tenant, lat, lon)
    for rt in offered:
        if rt.key == key:
            return rt
    code = key.rsplit("/", 1)[-1]
    for rt in offered:
        if rt.code == code:
            return rt
    raise ValidationError(
        {"request_type": Message(N_("Choose one of the request types offered at this place."))}
    )


@dataclass(frozen=True)
class Explanation:
    """Why an issue went where it did: the body that has it, whether routing chose it (staff
    may have passed it on since), and the other bodies offering its type here — wider ones
    that would have it where the chosen body's area ends."""

    body: Body
    routed: bool
    others: list[Body]
    code: str


def explain(session: Session, issue: Issue) -> Explanation:
    """The routing decision for an issue's place and type, from the stored areas."""
    code = issue.request_type.code
    offering = [b for b in sorted(bodies_containing(session, issue.lat, issue.lon),
                                  key=lambda b: (b.area_size, b.id))
                if any(rt.active and rt.code == code for rt in b.request_types)]
    routed = bool(offering) and offering[0].id == issue.body_id
    return Explanation(issue.body, routed, [b for b in offering if b.id != issue.body_id], code)
