"""`portal serve --workers 2` runs two server processes, and their sockets have Nagle off.

The server runs as an operator starts it: a subprocess on a free port, on a fresh SQLite
database migrated and loaded with `portal db upgrade` and `portal tenants load`.

TCP_NODELAY is read from the very socket a worker accepted for our connection, not inferred
from timings: /proc/net/tcp names the socket (inode) whose ends are our two ports,
/proc/<worker>/fd shows which of the worker's descriptors it is, and `pidfd_getfd(2)` hands us a
duplicate of that descriptor, on which `getsockopt` reads the option the worker's kernel
socket has. Without `portal.web.worker_processes` uvicorn's workers accept with proto 0 and
asyncio leaves the option off (0); with it, 1.
"""

from __future__ import annotations

import ctypes
import errno
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.core.settings import REPO_ROOT
from tests import live_portal
from tests.cli_run import run_portal
from tests.processes import stop

SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> dict[int, str]:
    """pid -> command line of the processes whose parent is `pid`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
    return {child: line.decode(errors="replace") for child, line in found.items()}


def _workers(pid: int) -> list[int]:
    # uvicorn's workers are `spawn` children; multiprocessing's resource tracker is not one.
    return sorted(p for p, line in _children(pid).items() if "multiprocessing.spawn" in line)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(server pid, port) of `portal serve --workers 2`; stopped after the module."""
    folder = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT),
           "REPORTAL_ENV": "development", "SECRET_KEY": "k" * 43,
           "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
           "STATIC_BUILD_DIR": str(folder / "static"), "MEDIA_DIR": str(folder / "media")}
    for step in (["db", "upgrade"], ["tenants", "load"]):
        live_portal.run(env, *step)
    # `serve --workers 2` itself must be a real process: the test finds its worker processes
    # and reads the sockets they accepted on.
    portal = [sys.executable, "-m", "portal.cli"]
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(portal + ["serve", "--port", str(port), "--workers", "2"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (folder / "serve.log").read_text()
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (folder / "serve.log").read_text()
            time.sleep(0.2)
        yield proc.pid, port
    finally:
        stop(proc, grace=30)
        log.close()


def _get(port: int, path: str, connection: http.client.HTTPConnection | None = None,
         ) -> tuple[int, str]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        if connection is None:
            conn.close()


def test_two_worker_processes_serve_a_portal_page(server):
    pid, port = server
    workers = _workers(pid)
    assert len(workers) == 2 and pid not in workers
    status, page = _get(port, "/t/new-haven/")
    assert status == 200 and "New Haven" in page
    assert all(Path(f"/proc/{w}").exists() for w in workers)


def _server_side_inode(port: int, client_port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(fields[i].rsplit(":", 1)[1], 16) for i in (1, 2))
        if (local, remote) == (port, client_port):
            return fields[9]
    raise AssertionError(f"no server socket for client port {client_port}")


def _worker_socket(workers: list[int], inode: str) -> tuple[int, socket.socket]:
    """The worker holding socket `inode`, and a duplicate of its descriptor (pidfd_getfd(2))."""
    libc = ctypes.CDLL(None, use_errno=True)
    for worker in workers:
        for fd in Path(f"/proc/{worker}/fd").iterdir():
            try:
                if os.readlink(fd) != f"socket:[{inode}]":
                    continue
            except OSError:
                continue
            pidfd = os.pidfd_open(worker)
            try:
                dup = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd.name), 0)
            finally:
                os.close(pidfd)
            if dup < 0:
                code = ctypes.get_errno()
                if code in (errno.ENOSYS, errno.EPERM):
                    pytest.skip(f"the kernel will not share a worker's socket "
                                f"(pidfd_getfd: {os.strerror(code)})")
                raise OSError(code, os.strerror(code))
            return worker, socket.socket(fileno=dup)
    raise AssertionError(f"no worker holds socket {inode}")


def test_accepted_sockets_have_nagle_off_in_every_worker(server):
    pid, port = server
    workers, seen = _workers(pid), set()
    # One connection at a time until each worker has accepted one: the kernel wakes either,
    # and /healthz answered as soon as the first was up (the other may still be starting).
    deadline = time.monotonic() + 90
    while seen != set(workers) and time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            assert _get(port, "/healthz", conn)[0] == 200  # accepted, and kept alive
            worker, accepted = _worker_socket(
                workers, _server_side_inode(port, conn.sock.getsockname()[1]))
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            seen.add(worker)
        finally:
            conn.close()
        time.sleep(0.02)
    assert seen == set(workers)


def test_zero_workers_is_refused_in_one_line():
    result = run_portal(["serve", "--workers", "0"],
                        {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 1
    assert result.stderr == "portal: --workers must be 1 or more\n"
