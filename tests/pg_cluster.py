"""A throwaway PostgreSQL server for the test run: its own cluster in a temp dir.

Uses Debian's `postgresql` binaries. `initdb` refuses to run as root, so as root the
cluster folder belongs to the `postgres` user and the server runs as that user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_cluster() -> Iterator[str]:
    """Start a cluster, yield its SQLAlchemy URL, stop and delete it afterwards."""
    bindir = pg_bin()
    folder = tempfile.mkdtemp(prefix="reportal-pg-")
    data = os.path.join(folder, "data")
    port = _free_port()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    run = lambda args: subprocess.run(prefix + args, check=True, capture_output=True)  # noqa: E731
    try:
        run([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync",
             "-E", "UTF8", "--locale=C.UTF-8"])
        run([f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(folder, "log"), "-w", "-o",
             f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
             "-c synchronous_commit=off -c full_page_writes=off", "start"])
        run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
             "reportal_test"])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/reportal_test"
    finally:
        subprocess.run(prefix + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
