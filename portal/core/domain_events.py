"""Domain events: a lower package says what happened; higher packages react to it.

Filing a report must not import the mail, watch and points code that reacts to it (they
import the report code, so that would be a circle). Instead `portal.reports` *publishes* an
event, and the reactions that `portal.reactions.install()` subscribed run at once, in the
caller's session and so in the caller's transaction: the issue and the mail it causes are
committed together or not at all, exactly as when the calls were written out by hand.

Publishing before `install()` is an error, not a silent no-op: a report whose body never
hears of it would be a lost report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

E = TypeVar("E")
Reaction = Callable[[Session, Any], object]

_reactions: dict[type, list[Reaction]] = {}
_installed = False


class NotWired(RuntimeError):
    """An event was published before the reactions were installed."""


def subscribe(event_type: type[E], reaction: Callable[[Session, E], object]) -> None:
    """Run `reaction(session, event)` for every `event_type` published (once per function)."""
    reactions = _reactions.setdefault(event_type, [])
    if reaction not in reactions:
        reactions.append(reaction)


def mark_installed() -> None:
    global _installed
    _installed = True


def publish(session: Session, event: object) -> None:
    """Run every reaction to `event`, in subscription order, in `session`'s transaction."""
    if not _installed:
        raise NotWired(f"{type(event).__name__} published before portal.reactions.install()")
    for reaction in _reactions.get(type(event), ()):
        reaction(session, event)
