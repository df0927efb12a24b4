"""A throwaway Redis server for the test run: its own process and folder, on a free port.

Uses Debian's `redis-server`, with nothing saved to disk; stopped and deleted afterwards.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.processes import stop


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).is_file()),
        None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_redis() -> Iterator[str]:
    """Start a server, yield its URL (`redis://127.0.0.1:PORT/0`), stop and delete it after."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("Redis is not installed: apt-get install -y redis-server")
    folder = Path(tempfile.mkdtemp(prefix="reportal-redis-"))
    port = _free_port()
    log = folder / "log"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--save", "", "--appendonly", "no", "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = log.read_text() if log.is_file() else ""
                    raise RuntimeError(f"redis-server did not start:\n{text[-2000:]}") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        stop(proc, grace=10)
        shutil.rmtree(folder, ignore_errors=True)
