"""Servers, wrk runs and process memory for bench/scale.py; loopback only.

wrk is closed-loop: each of its connections sends the next request when the last answer
arrives. Its Lua script picks a path per request from a list, and for "cold" runs appends
`_=<thread>-<n>`, which the portal ignores but which makes every URL (and so every ETag or
URL-keyed cache entry) new. `done()` prints the figures in one line we parse. The timeout is
long so slow answers count in the percentiles instead of vanishing as timeouts.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tests.processes import stop

HOST = "127.0.0.1"
# What a browser sends: the map API answers compressed, as it does for visitors.
ACCEPT_ENCODING = "gzip, deflate, br"
DRAIN_SECONDS = 900

LUA = r"""
local paths = {@PATHS@}
local bust, method, body = @BUST@, "@METHOD@", "@BODY@"
wrk.headers["Host"] = "@HOST@"
wrk.headers["Accept-Encoding"] = "@ENCODING@"
if method == "POST" then wrk.headers["Content-Type"] = "application/x-www-form-urlencoded" end
local n, threads = 0, 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args) math.randomseed(tid * 7919) end
function request()
  n = n + 1
  local path = paths[math.random(#paths)]
  if bust then
    path = path .. (string.find(path, "?", 1, true) and "&" or "?") .. "_=" .. tid .. "-" .. n
  end
  if method == "POST" then
    return wrk.format("POST", path, nil, body .. "&submission_key=@RUN@-" .. tid .. "-" .. n)
  end
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Run:
    """One wrk run: latency percentiles in ms, requests per second, failed requests."""

    p50: float
    p95: float
    p99: float
    rps: float
    requests: int
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def request(port: int, path: str, host: str, method: str = "GET", body: str | None = None,
            timeout: float = 300) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    headers = {"Host": host, "Accept-Encoding": ACCEPT_ENCODING}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """Run `command` until `/healthz` answers (at most two minutes); yield its pid."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=Path(__file__).resolve().parent.parent)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
            try:
                if request(port, "/healthz", HOST)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer /healthz:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield proc.pid
    finally:
        stop(proc, grace=15)


def _lua_list(paths: list[str]) -> str:
    return ",".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)


def wrk(port: int, host: str, paths: list[str], *, bust: bool, duration: int, connections: int,
        body: str = "", run_id: str = "") -> Run:
    """Load `paths` (one picked per request) with wrk; POST `body` when one is given."""
    script = (LUA.replace("@PATHS@", _lua_list(paths)).replace("@BUST@", str(bust).lower())
              .replace("@METHOD@", "POST" if body else "GET").replace("@BODY@", body)
              .replace("@HOST@", host).replace("@ENCODING@", ACCEPT_ENCODING)
              .replace("@RUN@", run_id))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        done = subprocess.run(
            ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s",
             "--timeout", "60s", "--latency", "-s", handle.name, f"http://{HOST}:{port}/"],
            capture_output=True, text=True, timeout=duration + 120, check=True)
    finally:
        os.unlink(handle.name)
    # wrk stops, but the server still answers what was queued; wait (bounded) until it has,
    # so that backlog is not billed to the next run and counts after a run are final.
    try:
        request(port, "/healthz", HOST, timeout=DRAIN_SECONDS)
    except TimeoutError:
        raise RuntimeError(f"the server was still busy {DRAIN_SECONDS} s after wrk stopped; "
                           "try fewer --connections or a smaller size") from None
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    requests, micros, p50, p95, p99, status, failed = (float(v) for v in line.split()[1:])
    return Run(p50 / 1000, p95 / 1000, p99 / 1000, requests / (micros / 1e6) if micros else 0,
               int(requests), int(status + failed))


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB, summed over `pid` and its descendants (uvicorn's workers)."""
    tree, parents = {pid}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1]
                                               .split()[1])
            except (OSError, IndexError, ValueError):
                continue
    grew = True
    while grew:  # each pass adds a generation; there are finitely many processes
        found = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    rss = peak = 0.0
    for member in tree:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss += int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        peak += int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    return rss, peak


class _Form(HTMLParser):
    """The fields of the page's POST form: name -> value (radios: the first one)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.fields = False, {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.inside = True
        elif self.inside and tag in ("input", "textarea", "select") and a.get("name"):
            self.fields.setdefault(a["name"], a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_fields(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.fields
