"""Prometheus metrics: a pure ASGI middleware that counts requests and serves `/metrics`.

Labels are the route *template* (`/api/v1/images/{image_id}`), never the raw path,
so an id per request cannot grow the number of series without bound; requests that
match no route share the label `<unmatched>`, and unknown methods are `OTHER`.

Each server process keeps its own counters (prometheus-client's default, no
multiprocess mode): `reactbin serve` is one process, so run several and scrape each
(see docs/deploy.md). `/metrics` is open unless METRICS_TOKEN is set, then it needs
`Authorization: Bearer <METRICS_TOKEN>`.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
QUEUE_QUERY_TIMEOUT = 2.0

# One registry per process, made once: tests build many apps in one process.
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

REQUESTS = Counter(
    "reactbin_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "reactbin_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
UPLOADS = Counter(
    "reactbin_uploads",
    "Images accepted, by entry point (api: POST /api/v1/images, web: the upload page).",
    ["via"],
    registry=REGISTRY,
)
REFUSALS = Counter(
    "reactbin_upload_refusals",
    "Uploads refused, by reason.",
    ["reason"],
    registry=REGISTRY,
)
STORAGE_ERRORS = Counter(
    "reactbin_storage_errors",
    "Object storage calls that failed (not counting missing objects), by operation.",
    ["operation"],
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "reactbin_database_errors",
    "Errors raised by PostgreSQL or the connection to it, by kind "
    "(connection: lost or refused; integrity: a constraint, e.g. a duplicate race; query).",
    ["kind"],
    registry=REGISTRY,
)
CACHE_HITS = Counter(
    "reactbin_response_cache_hits",
    "Public reads answered from the response cache (app/readcache).",
    registry=REGISTRY,
)
CACHE_MISSES = Counter(
    "reactbin_response_cache_misses",
    "Public reads of a cacheable route answered afresh.",
    registry=REGISTRY,
)
QUEUE_JOBS = Gauge(
    "reactbin_job_queue_jobs",
    "Background jobs in the PostgreSQL queue (procrastinate_jobs), by status, read at scrape.",
    ["status"],
    registry=REGISTRY,
)
QUEUE_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")

UPLOAD_ROUTES = {("POST", "/api/v1/images"): "api", ("POST", "/upload"): "web"}
REFUSAL_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    408: "timeout",
    409: "duplicate",
    411: "length_required",
    413: "too_large",
    415: "unsupported_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


@event.listens_for(Engine, "handle_error")
def _count_database_error(context: ExceptionContext) -> None:
    # asyncpg raises a plain OSError when it cannot connect at all.
    if context.is_disconnect or isinstance(context.original_exception, OSError):
        kind = "connection"
    elif isinstance(context.sqlalchemy_exception, IntegrityError):
        kind = "integrity"
    else:
        kind = "query"
    DATABASE_ERRORS.labels(kind).inc()


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def _upload_outcome(via: str, status: int, location: bytes) -> None:
    web_success = via == "web" and status == 303 and location.startswith(b"/i/")
    if status == 201 or web_success:
        UPLOADS.labels(via).inc()
    elif status >= 400:
        REFUSALS.labels(REFUSAL_REASONS.get(status, "error" if status >= 500 else "other")).inc()


class MetricsMiddleware:
    """Counts every HTTP request (pure ASGI: two clock reads and a dict lookup per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Label children cached: `labels()` takes a lock and builds a tuple on each call.
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await serve_metrics(scope, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        location = b""

        async def send_counted(message: Message) -> None:
            nonlocal status, location
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 303:
                    location = dict(message.get("headers", ())).get(b"location", b"")
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self._observe(scope, status, time.perf_counter() - started, location)

    def _observe(self, scope: Scope, status: int, seconds: float, location: bytes) -> None:
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        route = _route_of(scope)
        key = (method, route, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = REQUESTS.labels(method, route, str(status))
        counter.inc()
        histogram = self._latency.get(key[:2])
        if histogram is None:
            histogram = self._latency[key[:2]] = LATENCY.labels(method, route)
        histogram.observe(seconds)
        via = UPLOAD_ROUTES.get((method, route))
        if via is not None:
            _upload_outcome(via, status, location)


def _authorized(scope: Scope) -> bool:
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    token = getattr(settings, "metrics_token", None)
    if token is None:
        return True
    given = dict(scope["headers"]).get(b"authorization", b"")
    expected = f"Bearer {token.get_secret_value()}".encode()
    return hmac.compare_digest(given, expected)


async def read_queue_depth(app: Any) -> None:
    """Set the queue gauge from procrastinate_jobs (an indexed GROUP BY, bounded in time)."""
    engine = getattr(getattr(app, "state", None), "engine", None)
    if engine is None:
        return
    counts = dict.fromkeys(QUEUE_STATUSES, 0)
    try:
        async with asyncio.timeout(QUEUE_QUERY_TIMEOUT), engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
            )
            counts.update({str(status): int(count) for status, count in rows})
    except Exception as exc:  # a scrape must not fail because the database is down
        log.warning("metrics.queue_depth_failed", error=type(exc).__name__)
        QUEUE_JOBS.clear()  # no stale numbers: the series disappear until it answers
        return
    for status, count in counts.items():
        QUEUE_JOBS.labels(status).set(count)


async def serve_metrics(scope: Scope, send: Send) -> None:
    if not _authorized(scope):
        await _respond(send, 401, b'{"detail":"Not authenticated."}', b"application/json")
        return
    await read_queue_depth(scope.get("app"))
    body = generate_latest(REGISTRY)
    await _respond(send, 200, body, CONTENT_TYPE_LATEST.encode())


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
