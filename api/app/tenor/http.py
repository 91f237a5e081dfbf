"""HTTP behaviour of the Tenor-compatible paths: CORS, headers and Google-shaped errors.

A pure ASGI middleware rather than per-route code, because errors come from
everywhere (our own refusals, FastAPI's validation, Starlette's 404/405 for a
path or method nobody handles, a database outage) and pickers written for
Tenor parse only Google's shape: `{"error": {"code", "message", "status",
"details"}}`. Responses on other paths pass through untouched.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()

PREFIXES = ("/v2", "/tenor/v2", "/klipy/v2", "/proxy/klipy/api/v2")
# Search results change when the library does; a minute of caching spares a
# busy picker (one request per keystroke) without hiding a new upload for long.
CACHE_SECONDS = 60
# Google's canonical status names (google.rpc.Code) for the codes we send.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ALREADY_EXISTS",
    413: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_SAFE_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; sandbox"),
    (b"cross-origin-resource-policy", b"cross-origin"),
]
_PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-max-age", b"86400"),
]


def is_tenor_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PREFIXES)


def google_error(code: int, message: str) -> dict[str, Any]:
    status = STATUS_NAMES.get(code, "INTERNAL" if code >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": code, "message": message, "status": status, "details": []}}


def _message(body: bytes, code: int) -> str:
    """The human sentence of a `{"detail": ...}` body (a string, or FastAPI's list form)."""
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(detail, list) and detail:
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", [])[1:])
                parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else item["msg"])
        if parts:
            return "; ".join(parts)
    return "Not found." if code == 404 else "The request could not be served."


class TenorHttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_tenor_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, send)
            return
        await self._forward(scope, receive, send)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        requested = dict(scope["headers"]).get(b"access-control-request-headers", b"")
        headers = [*_SAFE_HEADERS, *_PREFLIGHT_HEADERS, (b"content-length", b"0")]
        if requested:
            headers.append((b"access-control-allow-headers", requested[:1024]))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = {"start": None, "body": b"", "started": False}

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                if message["status"] >= 400:
                    state["start"] = message  # rewritten once the whole body is here
                    return
                await send(_with_headers(message, success=True))
                return
            if message["type"] == "http.response.body" and state["start"] is not None:
                state["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    await self._send_error(send, state["start"], state["body"])
                return
            await send(message)

        try:
            await self.app(scope, receive, send_wrapped)
        except Exception as exc:
            if state["started"]:
                raise
            # Never a bare 500 page: the picker gets Google's shape, the log gets the trace.
            log.exception("tenor.failed", error=type(exc).__name__)
            start = {"type": "http.response.start", "status": 500, "headers": []}
            await self._send_error(send, start, b"{}")

    async def _send_error(self, send: Send, start: Message, body: bytes) -> None:
        code = int(start["status"])
        if b'"error"' in body[:20]:
            payload = body  # already Google-shaped
        else:
            # FastAPI's 422 (a parameter of the wrong type) is Google's 400 INVALID_ARGUMENT.
            code = 400 if code == 422 else code
            payload = json.dumps(google_error(code, _message(body, code))).encode()
        kept = [
            # OPTIONS is answered here (the preflight), so a 405 lists it too.
            (name, value + b", OPTIONS" if name.lower() == b"allow" and value else value)
            for name, value in start.get("headers", [])
            if name.lower() not in (b"content-length", b"content-type", b"cache-control")
        ]
        headers = [
            *kept,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        message = {"type": "http.response.start", "status": code, "headers": headers}
        await send(_with_headers(message, success=False))
        await send({"type": "http.response.body", "body": payload})


def _with_headers(message: Message, *, success: bool) -> Message:
    headers = [
        (name, value)
        for name, value in message.get("headers", [])
        if name.lower() not in {name for name, _ in _SAFE_HEADERS}
    ]
    headers += _SAFE_HEADERS
    if not any(name.lower() == b"cache-control" for name, _ in headers):
        cache = f"public, max-age={CACHE_SECONDS}" if success else "no-store"
        headers.append((b"cache-control", cache.encode()))
    return {**message, "headers": headers}
