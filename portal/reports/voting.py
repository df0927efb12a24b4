"""'I want this fixed too': one vote per person per issue, counted once.

Who a voter is: a signed-in person is their account; anyone else is the random id in their
session cookie (or, with cookies blocked, a keyed hash of address and browser) *and* their
network. A cookie is easy to wipe and a browser string easy to vary, so each anonymous vote
also carries `network_key`: an HMAC of the voter's network (the /24 of an IPv4 address, the /56
of an IPv6 one, so hopping between nearby addresses does not help) under a secret derived from
the server's key and today's date. At most one anonymous vote per network per issue counts;
neighbours behind one network who want to vote too sign in. Only the HMAC is
stored; because the secret changes daily, yesterday's keys cannot be linked to today's, and the
address cannot be recovered without the server's key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import date

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core.domain_events import publish
from portal.core.errors import N_, Message, ValidationError
from portal.models import Issue, Vote
from portal.reports.events import VoteCast

IPV4_PREFIX = 24
IPV6_PREFIX = 56
NETWORK_SALT = b"reportal.vote-network:"


def network_of(address: str) -> str:
    """The network an address belongs to, as text ("203.0.113.0/24", "2001:db8::/56").

    Something that is not an address (a test client's name, "unknown") stands for itself.
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def network_key(address: str, secret_key: str, day: date) -> str:
    """The anonymous voter's fingerprint for `day`: HMAC(day's secret, network of address)."""
    day_secret = hmac.new(secret_key.encode(), NETWORK_SALT + day.isoformat().encode(),
                          hashlib.sha256).digest()
    digest = hmac.new(day_secret, network_of(address).encode(), hashlib.sha256).hexdigest()
    return "n:" + digest[:40]


def account_voter(user_id: int) -> str:
    """The voter key of a signed-in person: their account (see `request_context.visitor_key`)."""
    return f"u:{user_id}"


def _cast_by(issue: Issue, voter_key: str, network: str | None):  # noqa: ANN202 - a SELECT
    who = Vote.voter_key == voter_key
    if network:
        who = or_(who, Vote.network_key == network)
    return select(Vote.id).where(Vote.issue_id == issue.id, who)


def has_voted(session: Session, issue: Issue, voter_key: str,
              network: str | None = None) -> bool:
    """Whether this voter (or, for an anonymous one, their network today) already voted."""
    return session.scalars(_cast_by(issue, voter_key, network)).first() is not None


# "I want this fixed too" is for what is still to fix. A closed issue that is broken again is
# a new report (its page says so), not a vote nobody works on.
VOTABLE = ("open", "acknowledged")
CLOSED_TO_VOTES = Message(N_("This issue is closed, so it takes no more votes. If the problem "
                             "is back, report it again."))


def vote(session: Session, issue: Issue, voter_key: str, network: str | None = None) -> bool:
    """Record a vote; returns False (and changes nothing) if this voter already voted.

    `network` is the anonymous voter's `network_key` (None for signed-in people). The unique
    (issue, voter) and (issue, network) indexes are what guarantee it under concurrency; the
    count on the issue is incremented in SQL so two votes at once both count.
    """
    if issue.status not in VOTABLE:
        raise ValidationError({"form": CLOSED_TO_VOTES})
    if has_voted(session, issue, voter_key, network):
        return False
    try:
        with session.begin_nested():
            session.add(Vote(issue_id=issue.id, voter_key=voter_key, network_key=network))
    except IntegrityError:
        return False
    session.execute(
        update(Issue).where(Issue.id == issue.id).values(vote_count=Issue.vote_count + 1)
    )
    session.refresh(issue, ["vote_count"])
    publish(session, VoteCast(issue, voter_key))
    return True
