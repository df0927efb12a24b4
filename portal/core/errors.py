"""Domain exceptions carrying user-facing, translatable messages.

Domain code marks messages with `N_` (extracted by Babel, translated later in the request's
language by the HTTP layer) so nothing in the domain needs to know the current locale.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message for extraction without translating it now."""
    return message


@dataclass
class Message:
    """A msgid plus the values for its placeholders, translated at the edge."""

    msgid: str
    params: dict[str, object] = field(default_factory=dict)


class DomainError(Exception):
    """Base for errors that carry a message meant for the person who caused them."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid % params if params else msgid)
        self.message = Message(msgid, params)


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    pass


class ValidationError(DomainError):
    """One or more field errors; `errors` maps a form field to its message."""

    def __init__(self, errors: dict[str, Message]) -> None:
        first = next(iter(errors.values()))
        super().__init__(first.msgid, **first.params)
        self.errors = errors


class ConfigError(Exception):
    """A tenant, body or theme definition that cannot be loaded (operator-facing).

    Carries a translatable message plus `where` (the file or folder at fault), so the CLI
    can print one line in the operator's language.
    """

    def __init__(self, msgid: str, *, where: str = "", **params: object) -> None:
        self.message = Message(msgid, params)
        self.where = where
        super().__init__(self._english())

    def _english(self) -> str:
        text = self.message.msgid % self.message.params if self.message.params else \
            self.message.msgid
        return f"{self.where}: {text}" if self.where else text

    def at(self, where: object) -> ConfigError:
        """Name the file or folder at fault, unless a deeper step already did."""
        if not self.where:
            self.where = str(where)
            self.args = (self._english(),)
        return self
