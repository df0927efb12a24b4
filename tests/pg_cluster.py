"""Throwaway PostgreSQL servers for the test run, each its own cluster in a temp dir.

Uses Debian's `postgresql` binaries. `initdb` refuses to run as root, so as root the
cluster folder belongs to the `postgres` user and the servers run as that user.

`running_cluster()` is one server for the suite's PostgreSQL pass. `replicated_pair()` is a
primary set up for streaming replication and a hot standby made from it by `pg_basebackup`,
for the read-replica tests: they stop and start the primary while the standby keeps serving.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

DBNAME = "reportal_test"
# Test data need not survive a power cut; a stopped server (`pg_ctl stop`) still keeps it all.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
REPLICATION = """
wal_level = replica
max_wal_senders = 4
hot_standby = on
"""


def pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(_as_postgres() + args, check=True, capture_output=True)


def _folder() -> str:
    folder = tempfile.mkdtemp(prefix="reportal-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


@dataclass
class Server:
    """One PostgreSQL server: its data directory, its port, the options it runs with."""

    bindir: str
    folder: str
    data: str
    port: int
    options: str = ""

    def url(self, dbname: str = DBNAME) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def dsn(self, dbname: str = DBNAME) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def start(self) -> None:
        _run([f"{self.bindir}/pg_ctl", "-D", self.data, "-l", self.data + ".log", "-w", "-o",
              f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 {self.options}",
              "start"])

    def stop(self, mode: str = "fast") -> None:
        _run([f"{self.bindir}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def kill(self) -> None:
        """Stop it at once if it runs; never raises (for cleanup)."""
        subprocess.run(_as_postgres() + [f"{self.bindir}/pg_ctl", "-D", self.data, "-m",
                                         "immediate", "stop"], capture_output=True)

    def scalar(self, sql: str, dbname: str = DBNAME) -> object:
        """The first column of the first row `sql` returns (None if it returns none)."""
        with psycopg.connect(self.dsn(dbname), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None


def _initdb(bindir: str, data: str) -> None:
    _run([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync",
          "-E", "UTF8", "--locale=C.UTF-8"])


@contextmanager
def running_cluster() -> Iterator[str]:
    """Start a cluster, yield its SQLAlchemy URL, stop and delete it afterwards."""
    bindir, folder = pg_bin(), _folder()
    server = Server(bindir, folder, os.path.join(folder, "data"), _free_port(), FAST)
    try:
        _initdb(bindir, server.data)
        server.start()
        _run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U",
              "postgres", DBNAME])
        yield server.url()
    finally:
        server.kill()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def kept_cluster(folder: str) -> Iterator[str]:
    """Like `running_cluster`, in `folder` and kept there: started again if it holds one
    already (for benchmarks that reuse a database loaded once), stopped cleanly after."""
    bindir = pg_bin()
    os.makedirs(folder, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = Server(bindir, folder, os.path.join(folder, "data"), _free_port(), FAST)
    fresh = not os.path.isdir(server.data)
    if fresh:
        _initdb(bindir, server.data)
    server.start()
    try:
        if fresh:
            _run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U",
                  "postgres", DBNAME])
        yield server.url()
    finally:
        server.stop()


@dataclass
class ReplicatedPair:
    """A primary and its hot standby, streaming; the database `DBNAME` exists on both."""

    primary: Server
    standby: Server

    def wait_for_replay(self, timeout: float = 30.0) -> None:
        """Return once the standby has replayed everything the primary has written so far."""
        target = self.primary.scalar("SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        while not self.standby.scalar(
                f"SELECT coalesce(pg_last_wal_replay_lsn() >= '{target}'::pg_lsn, false)"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not replay up to {target} in {timeout} s")
            time.sleep(0.05)


@contextmanager
def replicated_pair() -> Iterator[ReplicatedPair]:
    """A primary configured for replication and a standby cloned from it with
    `pg_basebackup -R -X stream`, each on its own port; both stopped and deleted afterwards.

    Commits are synchronous on the primary (acknowledged means in its WAL), so the tests can
    check that nothing acknowledged before a stop is lost.
    """
    bindir, folder = pg_bin(), _folder()
    primary = Server(bindir, folder, os.path.join(folder, "primary"), _free_port(),
                     "-c fsync=off")
    # The standby asks for the primary again every half second once it lost it (not 5 s).
    standby = Server(bindir, folder, os.path.join(folder, "standby"), _free_port(),
                     "-c fsync=off -c wal_retrieve_retry_interval=500ms")
    try:
        _initdb(bindir, primary.data)
        with open(os.path.join(primary.data, "postgresql.conf"), "a") as conf:
            conf.write(REPLICATION)
        with open(os.path.join(primary.data, "pg_hba.conf"), "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        _run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U",
              "postgres", DBNAME])
        # -R writes standby.signal and the primary's address; -X stream copies the WAL the
        # backup needs over a second connection while it runs.
        _run([f"{bindir}/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port),
              "-U", "postgres", "-D", standby.data, "-R", "-X", "stream", "--checkpoint=fast",
              "--no-sync"])
        standby.start()
        pair = ReplicatedPair(primary, standby)
        if not standby.scalar("SELECT pg_is_in_recovery()"):
            raise RuntimeError("the standby is not in recovery")
        pair.wait_for_replay()
        yield pair
    finally:
        standby.kill()
        primary.kill()
        shutil.rmtree(folder, ignore_errors=True)
