"""A real SMTP server in the test process (aiosmtpd), and a mailbox that reads like a person.

`Mailbox` keeps every message the server accepted (`raw`) and the view a recipient has after
de-duplicating by Message-ID (`delivered`), which is what our at-least-once contract
promises: every notice once. `DropOnce` takes one message and then drops the connection
before answering, the ambiguous moment where a sender cannot know the message arrived.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that stores what it accepts."""

    def __init__(self) -> None:
        self.raw: list[EmailMessage] = []
        self.lock = threading.Lock()

    def store(self, envelope) -> EmailMessage:  # noqa: ANN001 - aiosmtpd Envelope
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self.lock:
            self.raw.append(message)
        return message

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001,N802
        self.store(envelope)
        return "250 Message accepted for delivery"

    @property
    def delivered(self) -> list[EmailMessage]:
        """What a receiver that de-duplicates by Message-ID shows: first copy of each."""
        seen: set[str] = set()
        kept = []
        with self.lock:
            for message in self.raw:
                if message["Message-ID"] not in seen:
                    seen.add(message["Message-ID"])
                    kept.append(message)
        return kept

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.delivered if address in m["To"]]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.delivered) < count:
            time.sleep(0.02)
        return self.delivered


class DropOnce(Mailbox):
    """Accepts `accept` messages, then takes the next one and drops the connection unanswered
    (once); after that it behaves normally."""

    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept
        self.dropped = False

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001,N802
        self.store(envelope)
        if not self.dropped and len(self.raw) > self.accept:
            self.dropped = True
            server.transport.close()
            return "421 closing"
        return "250 Message accepted for delivery"


class HoldOne(Mailbox):
    """Takes message number `hold_at` and then stalls before answering, until `release()`:
    the test kills the sending process meanwhile."""

    def __init__(self, hold_at: int) -> None:
        super().__init__()
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001,N802
        self.store(envelope)
        if len(self.raw) == self.hold_at and not self.released.is_set():
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    def release(self) -> None:
        self.released.set()


class Refuse(Mailbox):
    """Answers every message with a fixed SMTP code (e.g. 451 try later, 550 no such user)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001,N802
        return self.code


@contextmanager
def smtp_server(handler: Mailbox) -> Iterator[int]:
    """Run `handler` on 127.0.0.1 for the block; yields the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        if isinstance(handler, HoldOne):
            handler.release()
        controller.stop()


LINK = re.compile(r"https?://\S+")


def links_in(message: EmailMessage) -> list[str]:
    return LINK.findall(message.get_content())


def link_to(message: EmailMessage, fragment: str) -> str:
    found = [u for u in links_in(message) if fragment in u]
    assert found, f"no link containing {fragment!r} in:\n{message.get_content()}"
    return found[0]
