"""A real `portal serve` on loopback with its own SQLite database, set up as an operator
would (`portal db upgrade`, `portal tenants load`), for tests that talk to it over HTTP."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portal.core.settings import REPO_ROOT
from tests.cli_run import run_portal
from tests.processes import stop

# `serve` stays a real process: the tests talk to it over HTTP while they run.
PORTAL_COMMAND = [sys.executable, "-m", "portal.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(folder: Path, secret: str = "k") -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT),
            "REPORTAL_ENV": "development", "SECRET_KEY": secret * 43, "LANG": "C",
            "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}", "RATE_LIMITS": "0",
            "STATIC_BUILD_DIR": str(folder / "static"), "MEDIA_DIR": str(folder / "media")}


def run(env: dict[str, str], *args: str) -> str:
    """One `portal …` command (run in this process: see tests/cli_run.py); its standard output."""
    done = run_portal(list(args), env)
    assert done.returncode == 0, f"portal {' '.join(args)}: {done.stderr}"
    return done.stdout


@contextmanager
def serving(folder: Path, env: dict[str, str], port: int) -> Iterator[None]:
    """`portal serve` on `port` until the block ends; waits for /healthz first."""
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(PORTAL_COMMAND + ["serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (folder / "serve.log").read_text()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (folder / "serve.log").read_text()
            time.sleep(0.2)
        yield
    finally:
        stop(proc, grace=30)
        log.close()
