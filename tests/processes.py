"""Stopping the servers tests and benchmarks start (redis-server, `portal serve`)."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen, grace: float) -> None:
    """Ask it to stop, and after `grace` seconds make it."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
