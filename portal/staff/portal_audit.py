"""The audit of a portal's configuration, and undoing any entry of it.

Every change an admin makes at `/staff/portal` is recorded by `record` as one `PortalChange`:
who, when, which setting (`what`, and `subject` where the setting has several parts: a person
in a place, an API key), and the setting's whole state before and after, as JSON.

Undoing applies `before` back. That is only safe while the setting still is what the entry
left it: `undo` reads the state now and refuses, saying so, when it differs (a later change,
or the CLI, moved it on); the later change can be undone first. An undo is a change like any
other, audited and undoable in its turn (undoing an undo re-applies the original change).

Each kind of setting says how to read and apply its state by `register`ing a `Kind`
(`portal_settings` for the portal's own settings, `portal_team` for staff and keys), so this
module knows the audit and nothing of any setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.errors import N_, DomainError, NotFound
from portal.models import PortalChange, Tenant, User
from portal.tenancy.scoping import for_tenant

State = Any  # JSON: what `Kind.read` returns and `Kind.apply` takes


@dataclass(frozen=True)
class Kind:
    """How to read one kind of setting's state now, and how to put a state back.

    `apply` may raise a DomainError when the state cannot be put back (the last admin would
    go); the undo is then refused with its message and nothing is written."""

    read: Callable[[Session, Tenant, dict], State]
    apply: Callable[[Session, Tenant, dict, State], None]
    # Whether this person may undo a change to `subject` (beyond being the portal's admin).
    may_undo: Callable[[Session, User | None, dict], bool] | None = None


KINDS: dict[str, Kind] = {}
PAGE = 100  # the audit page shows this many, newest first


class UndoRefused(DomainError):
    pass


def register(what: str, kind: Kind) -> None:
    KINDS[what] = kind


def record(session: Session, tenant: Tenant, user_id: int | None, what: str,
           before: State, after: State, subject: dict | None = None,
           undoes: PortalChange | None = None) -> PortalChange | None:
    """One audit entry; None (and nothing written) when before and after are the same."""
    if before == after:
        return None
    row = PortalChange(tenant_id=tenant.id, user_id=user_id, what=what, subject=subject or {},
                       before=before, after=after, undoes_id=undoes.id if undoes else None)
    session.add(row)
    session.flush()
    return row


def changes(session: Session, tenant: Tenant, limit: int = PAGE) -> list[PortalChange]:
    """The portal's audit, newest first."""
    return list(session.scalars(for_tenant(select(PortalChange), PortalChange, tenant)
                                .order_by(PortalChange.id.desc()).limit(limit)))


def get(session: Session, tenant: Tenant, change_id: int) -> PortalChange:
    """One of this portal's entries, else NotFound (another portal's is not found either)."""
    row = session.scalars(for_tenant(select(PortalChange), PortalChange, tenant)
                          .where(PortalChange.id == change_id)).first()
    if row is None:
        raise NotFound(N_("There is no such change on this portal."))
    return row


def undo(session: Session, tenant: Tenant, change_id: int, user: User | None) -> PortalChange:
    """Put the entry's `before` back, if the setting still is its `after`; the new entry."""
    entry = get(session, tenant, change_id)
    kind = KINDS.get(entry.what)
    if kind is None:
        raise UndoRefused(N_("This change cannot be undone here."))
    if kind.may_undo is not None and not kind.may_undo(session, user, entry.subject):
        raise UndoRefused(N_("Only staff of that body may undo a change to its roles."))
    if kind.read(session, tenant, entry.subject) != entry.after:
        raise UndoRefused(N_("This was changed again since, so undoing it would lose the later "
                             "change. Undo the later change first."))
    kind.apply(session, tenant, entry.subject, entry.before)
    session.flush()
    row = record(session, tenant, user.id if user else None, entry.what, entry.after,
                 entry.before, entry.subject, undoes=entry)
    assert row is not None  # before != after, or the entry would not exist
    return row
