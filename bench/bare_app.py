"""The bare limit for bench/scale.py: Starlette under uvicorn answering with pre-built bytes.

`GET /bytes/{size}` returns `size` bytes built once; `POST /post` reads the form body and
answers 303 like a filed report. Whatever the portal costs beyond this is the portal's own.
Serve it with `uvicorn bare_app:app --app-dir bench`.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


@lru_cache(maxsize=64)
def _body(size: int) -> bytes:
    return b"x" * size


async def sized(request: Request) -> Response:
    return Response(_body(request.path_params["size"]), media_type="text/html")


async def posted(request: Request) -> Response:
    await request.body()
    return Response(status_code=303, headers={"location": "/issues/1?new=1"})


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(routes=[
    Route("/bytes/{size:int}", sized),
    Route("/post", posted, methods=["POST"]),
    Route("/healthz", healthz),
])
