"""Run the whole test suite on SQLite and on a throwaway PostgreSQL server, side by side.

This is what `make test` (and so CI) runs. It fails if either run fails or if a run
collected no tests at all (pytest's exit code 5 is not a pass).

The two runs share nothing (each has its own database, Redis, browser, ports and temporary
directory), so they run at the same time: the SQLite run is mostly one Python process and the
PostgreSQL run waits on its server much of the time, and together they fit two cores far
better than one after the other (about 27 minutes serial, well under 20 side by side).
`SUITES_SERIAL=1` runs them one after the other, for reading one run's output undisturbed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time

from tests.pg_cluster import running_cluster


def start(label: str, env: dict[str, str], extra: list[str], temp: str) -> subprocess.Popen:
    basetemp = os.path.join(temp, label)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", f"--basetemp={basetemp}", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def relay(label: str, process: subprocess.Popen, failures: list[str]) -> None:
    """Print a run's output line by line, each line marked with the run it came from, and
    keep pytest's one-line FAILED/ERROR verdicts: the summary repeats them, because CI keeps
    only the tail of a long log and the SQLite run usually finishes first."""
    assert process.stdout is not None
    for line in process.stdout:
        print(f"[{label}] {line}", end="", flush=True)
        if line.startswith(("FAILED ", "ERROR ")):
            failures.append(line.rstrip())


def finish(label: str, process: subprocess.Popen, began: float) -> int:
    code = process.wait()
    print(f"[{label}] finished in {time.monotonic() - began:.0f} s", flush=True)
    if code == 5:
        print(f"[{label}] no tests ran: that is a failure", flush=True)
        return 1
    return code


def run(runs: dict[str, dict[str, str]], extra: list[str], serial: bool,
        failures: dict[str, list[str]]) -> dict[str, int]:
    results: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="reportal-tests-") as temp:
        groups = [[name] for name in runs] if serial else [list(runs)]
        for group in groups:
            began = time.monotonic()
            started = {name: start(name, runs[name], extra, temp) for name in group}
            relays = [threading.Thread(target=relay, args=(name, p, failures.setdefault(name, [])))
                      for name, p in started.items()]
            for thread in relays:
                thread.start()
            for name, process in started.items():
                results[name] = finish(name, process, began)
            for thread in relays:
                thread.join()
    return results


def main(argv: list[str]) -> int:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    serial = os.environ.get("SUITES_SERIAL") == "1"
    failures: dict[str, list[str]] = {}
    with running_cluster() as url:
        results = run({"sqlite": env, "postgresql": {**env, "TEST_DATABASE_URL": url}},
                      argv, serial, failures)
    print("\n=== summary ===")
    for name, code in results.items():
        print(f"{name}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
        for line in failures.get(name, []):
            print(f"  {line}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
