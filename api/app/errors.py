"""The ReactbinError family: services raise these, one handler renders `{"detail": ...}`."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

log = structlog.get_logger()


class ReactbinError(Exception):
    status_code = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.headers = headers
        self.extra = extra


class BadRequest(ReactbinError):
    status_code = 400


class Unauthorized(ReactbinError):
    status_code = 401

    def __init__(self, message: str = "Not authenticated.") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class NotFound(ReactbinError):
    status_code = 404


class Duplicate(ReactbinError):
    status_code = 409


class TooLarge(ReactbinError):
    status_code = 413


class UnsupportedMedia(ReactbinError):
    status_code = 415


class Unprocessable(ReactbinError):
    status_code = 422


class RangeNotSatisfiable(ReactbinError):
    status_code = 416


class TooManyRequests(ReactbinError):
    status_code = 429


class ServiceUnavailable(ReactbinError):
    status_code = 503


async def _handle_reactbin_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReactbinError)
    if exc.status_code >= 500:
        log.warning("request.unavailable", detail=exc.message)
    return JSONResponse(
        {"detail": exc.message, **exc.extra}, status_code=exc.status_code, headers=exc.headers
    )


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Never a stack trace to the client; the log has it with the request id.
    log.exception("request.failed", error=type(exc).__name__)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ReactbinError, _handle_reactbin_error)
    app.add_exception_handler(Exception, _handle_unexpected)
