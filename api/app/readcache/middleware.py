"""Serve repeated public reads from the response cache (see store.py).

A pure ASGI middleware, innermost, so a hit skips routing, dependencies,
the database and serialisation, while the request id, the metrics and the
Tenor headers still apply to it. Only routes marked with `cacheable` are
stored, only their complete 200 answers, and never one that says
`Cache-Control: no-store` (a random order). A request with `Cache-Control:
no-cache` is answered afresh (and its answer stored), as HTTP caches do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ops.metrics import CACHE_HITS, CACHE_MISSES
from app.readcache.store import CachedResponse, ResponseCache

_CACHEABLE = "_reactbin_cacheable"
CACHE_HEADER = b"x-cache"
_HIT = (CACHE_HEADER, b"HIT")
_MISS = (CACHE_HEADER, b"MISS")

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def cacheable(endpoint: Endpoint) -> Endpoint:
    """Mark a GET endpoint whose answer depends only on its path, its query
    string and the library's content (never on who asks, or on time or chance)."""
    setattr(endpoint, _CACHEABLE, True)
    return endpoint


def _is_cacheable(route: Any) -> bool:
    return bool(getattr(getattr(route, "endpoint", None), _CACHEABLE, False))


def _header(headers: Any, name: bytes) -> bytes:
    for key, value in headers:
        if key.lower() == name:
            return bytes(value)
    return b""


class ResponseCacheMiddleware:
    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.cache
        if scope["type"] != "http" or scope["method"] != "GET" or not cache.live:
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope["query_string"])
        if b"no-cache" not in _header(scope["headers"], b"cache-control"):
            hit = await cache.get(key)
            if hit is not None:
                scope["route"] = hit.route
                CACHE_HITS.inc()
                await send(
                    {
                        "type": "http.response.start",
                        "status": hit.status,
                        "headers": [*hit.headers, _HIT],
                    }
                )
                await send({"type": "http.response.body", "body": hit.body})
                return
        await self._answer(scope, receive, send, key)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, key: tuple[str, bytes]
    ) -> None:
        generation = self.cache.generation
        start: Message | None = None
        parts: list[bytes] = []
        complete = cacheable = False

        async def capture(message: Message) -> None:
            nonlocal start, complete, cacheable
            if message["type"] == "http.response.start":
                start = message
                # Routing has run by now: only a cacheable route's answer says MISS.
                cacheable = _is_cacheable(scope.get("route"))
                if cacheable:
                    CACHE_MISSES.inc()
                    message = {**message, "headers": [*message.get("headers", []), _MISS]}
            elif message["type"] == "http.response.body" and start is not None:
                parts.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, capture)
        if start is None or not cacheable or not complete or start["status"] != 200:
            return
        headers = tuple((bytes(n), bytes(v)) for n, v in start.get("headers", []))
        if b"no-store" in _header(headers, b"cache-control"):
            return
        entry = CachedResponse(start["status"], headers, b"".join(parts), scope.get("route"))
        self.cache.put(key, entry, generation)
