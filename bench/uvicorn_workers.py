"""`uvicorn --workers N` for bench/scale.py's bare app, with Nagle off as in `portal serve`.

uvicorn's multi-worker mode leaves TCP_NODELAY off on accepted sockets (Kludex/uvicorn#3149):
every keep-alive response would wait ~40 ms for a delayed ACK, and the bare limit would
measure that. The fix is the portal's own (`portal.web.worker_processes`), so the bare app and
`portal serve --workers N` are served alike.
Usage: python bench/uvicorn_workers.py <uvicorn arguments>
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uvicorn.main import main  # noqa: E402

from portal.web.worker_processes import nodelay_listening_sockets  # noqa: E402

if __name__ == "__main__":
    with nodelay_listening_sockets():
        main()
