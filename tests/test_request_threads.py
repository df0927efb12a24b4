"""How many handlers one process runs at once (`REQUEST_THREADS`), and the error for a bad value."""

from __future__ import annotations

import threading
import time

import anyio
import pytest
from anyio import to_thread
from starlette.applications import Starlette

from portal import worker
from portal.core.errors import ConfigError
from portal.core.i18n import translate
from portal.core.settings import Settings


def test_two_handlers_at_once_unless_told_otherwise() -> None:
    assert Settings.from_env({}).request_threads == 2
    assert Settings.from_env({"REQUEST_THREADS": "1"}).request_threads == 1
    assert Settings.from_env({"REQUEST_THREADS": " 6 "}).request_threads == 6


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_value_names_the_setting(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"REQUEST_THREADS": value})
    assert translate(caught.value.message) == (
        f"REQUEST_THREADS must be a whole number, 1 or more, not {value!r}")


def _most_at_once(request_threads: int, handlers: int) -> int:
    """How many of `handlers` sync calls ran at the same time under the app's lifespan."""
    settings = Settings(request_threads=request_threads)
    running, most, lock = 0, 0, threading.Lock()

    def handler() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def serve() -> None:
        async with worker.lifespan(None, settings)(Starlette()):
            async with anyio.create_task_group() as group:
                for _ in range(handlers):
                    group.start_soon(to_thread.run_sync, handler)

    # A thread of its own: a browser test earlier in the run may leave an event loop in this one.
    failed: list[BaseException] = []

    def run() -> None:
        try:
            anyio.run(serve)
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return most


@pytest.mark.parametrize("request_threads", [1, 2, 3])
def test_handlers_beyond_the_limit_wait_their_turn(request_threads: int) -> None:
    assert _most_at_once(request_threads, handlers=6) == request_threads
