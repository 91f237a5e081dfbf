"""The ReactbinError family: services raise these; `app/error_handlers.py` renders
them as `{"detail": ...}`. No web framework here: the CLI and the workers raise them too."""

from __future__ import annotations

from typing import Any


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
