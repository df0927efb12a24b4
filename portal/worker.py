"""The mail worker: each day's digests and each week's district digests, then everything due
in the outbox (mail, and new reports for bodies' Open311 endpoints), and every few minutes
those bodies' progress.

`portal worker` runs `run_forever`; `make run` starts `BackgroundSender` inside the web
process. It lives apart from `portal.mail.outbox` because it drives both the outbox and the
digests (which write to the outbox): the outbox knows nothing of what fills it.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from anyio import to_thread

from portal.core.db import Database
from portal.core.settings import Settings
from portal.engagement import digests
from portal.mail.outbox import RunReport, drain
from portal.models import utcnow
from portal.open311 import delivery, polling
from portal.sms import outbound as sms_outbound
from portal.staff import district_digest

log = logging.getLogger("reportal.worker")

POLL_EVERY = timedelta(minutes=5)  # how often bodies' Open311 endpoints are asked for news


@dataclass
class StepReport:
    """What one worker step did: the mail, the Open311 requests, and the poll (if one ran)."""

    mail: RunReport
    open311: RunReport
    poll: polling.PollReport | None = None
    sms: RunReport | None = None


def run_once(db: Database, settings: Settings, digest_state: dict | None = None) -> StepReport:
    """One worker step: yesterday's digests (once per day in each portal's time zone, once
    its day has ended there) and last week's district digests for politicians' offices (once
    per week), then everything due, then (every
    `POLL_EVERY`, and on every `--once` run) the Open311 bodies' changes."""
    if digest_state is not None:
        with db.session() as session:
            for zone, day in digests.digest_days(session, utcnow()).items():
                if digest_state.get(("day", zone)) != day:
                    digests.compose_digests(session, day, zone)
                    digest_state[("day", zone)] = day
        week = district_digest.week_of(utcnow().date()) - timedelta(days=7)  # last full week
        if digest_state.get("week") != week:
            with db.session() as session:
                district_digest.compose_digests(session, week)
            digest_state["week"] = week
    report = StepReport(drain(db, settings), delivery.drain(db, settings))
    report.sms = sms_outbound.drain(db, settings)
    state = digest_state if digest_state is not None else {}
    last = state.get("polled")
    if last is None or utcnow() - last >= POLL_EVERY:
        report.poll = polling.poll(db, settings)
        state["polled"] = utcnow()
    return report


def run_forever(db: Database, settings: Settings, interval: float = 5.0,
                stop: threading.Event | None = None) -> None:
    """The worker loop: never dies of one bad run; stops when `stop` is set."""
    stop = stop or threading.Event()
    state: dict[str, date | datetime] = {}
    while not stop.is_set():
        try:
            run_once(db, settings, state)
        except Exception:  # noqa: BLE001 - log and try again next time
            log.exception("outbox run failed")
        stop.wait(interval)


class BackgroundSender:
    """The worker loop in a thread of the web process, for `make run` (BACKGROUND_SENDER=1)."""

    def __init__(self, db: Database, settings: Settings, interval: float = 5.0) -> None:
        self.db, self.settings, self.interval = db, settings, interval
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(
            target=run_forever, args=(self.db, self.settings, self.interval, self.stop_event),
            name="reportal-outbox", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def lifespan(db: Database, settings: Settings):  # noqa: ANN201 - a Starlette lifespan
    """The app's lifespan: runs a `BackgroundSender` while serving, if settings ask for it.

    It also sets how many handlers run at once (`REQUEST_THREADS`). Starlette runs each sync
    handler in anyio's thread pool, 40 at a time by default; under the GIL, 16 handlers at
    once took turns so badly that one process served a third fewer pages than with one at a
    time, and the slowest waited longest (docs/scaling.md). A couple of threads still let one
    handler run while another waits on the database; the others wait their turn in order.
    """

    @asynccontextmanager
    async def _lifespan(app):  # noqa: ANN001,ANN202
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        sender = BackgroundSender(db, settings) if settings.background_sender else None
        if sender is not None:
            sender.start()
        try:
            yield
        finally:
            if sender is not None:
                sender.stop()

    return _lifespan
