"""structlog set-up: JSON lines in production, readable lines in a terminal,
and one request id bound to every line of a request."""

from __future__ import annotations

import logging
import sys
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"


class _StderrLogger:
    """Writes to whatever `sys.stderr` is at call time (test runners swap it)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


# Defence in depth: no event should carry these, but if one ever does, the value
# never reaches a log line (keys compared case-insensitively, by substring).
_SECRET_KEY_PARTS = ("password", "token", "secret", "authorization", "cookie", "csrf", "api_key")
REDACTED = "[redacted]"


def redact_secrets(
    _logger: object, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    for key in event_dict:
        lowered = key.lower()
        if any(part in lowered for part in _SECRET_KEY_PARTS):
            event_dict[key] = REDACTED
    return event_dict


class _StderrHandler(logging.Handler):
    """The standard library's records (uvicorn, procrastinate, botocore), on the same
    stderr as ours and rendered by the same renderer, so a log is JSON throughout."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        redact_secrets,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    exceptions: structlog.types.Processor = (
        structlog.processors.format_exc_info
        if use_json
        else structlog.processors.StackInfoRenderer()
    )
    structlog.configure(
        processors=[*shared, exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_: _StderrLogger(),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(
        level, [*shared, structlog.stdlib.add_logger_name], exceptions, renderer
    )


def _route_standard_logging(
    level: str,
    pre_chain: list[structlog.types.Processor],
    exceptions: structlog.types.Processor,
    renderer: structlog.types.Processor,
) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            exceptions,
            renderer,
        ],
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)  # configured again (tests build many apps): one handler
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    # Libraries speak up from WARNING (botocore's and procrastinate's INFO lines are
    # noise in production), or everything with LOG_LEVEL=debug.
    root.setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


class RequestIdMiddleware:
    """Echo a sane `X-Request-ID` or make one, and bind it to the logs of the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 and given.isprintable() else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
