"""The HTTP side of errors: a ReactbinError becomes `{"detail": ...}` with its status,
a database outage a 503, anything else a 500 without a stack trace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

from app.errors import ReactbinError

log = structlog.get_logger()


async def _handle_reactbin_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ReactbinError):  # registered for ReactbinError only
        return await _handle_unexpected(request, exc)
    if exc.status_code >= 500:
        log.warning("request.unavailable", detail=exc.message)
    return JSONResponse(
        {"detail": exc.message, **exc.extra}, status_code=exc.status_code, headers=exc.headers
    )


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Never a stack trace to the client; the log has it with the request id.
    log.exception("request.failed", error=type(exc).__name__)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


# SQLSTATE classes of a server that is down, restarting or out of connections:
# 08 connection exception, 53 insufficient resources, 57 operator intervention
# (admin_shutdown, cannot_connect_now).
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")


def _database_outage(exc: DBAPIError) -> bool:
    """A lost or refused connection, as opposed to a query the database refused."""
    if exc.connection_invalidated or isinstance(exc, InterfaceError | OperationalError):
        return True
    if isinstance(exc.orig, OSError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES


async def _handle_outage(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL (or a connection to it) is down: 503, never a 500, while it restarts.

    asyncpg raises a plain OSError when it cannot connect at all; SQLAlchemy wraps
    errors on an open connection in DBAPIError and raises TimeoutError when the pool
    has no connection to give.
    """
    if isinstance(exc, DBAPIError) and not _database_outage(exc):
        return await _handle_unexpected(request, exc)
    if isinstance(exc, OSError):
        message = "The database or storage could not be reached; try again shortly."
    else:
        message = "The database is unavailable; try again shortly."
    # The driver's message, not SQLAlchemy's (which carries the statement's parameters).
    reason = exc.orig if isinstance(exc, DBAPIError) else exc
    log.warning("request.unavailable", detail=message, error=f"{type(reason).__name__}: {reason}")
    return JSONResponse({"detail": message}, status_code=503)


def validation_sentence(errors: Sequence[Any]) -> str:
    """FastAPI's list of validation errors as one sentence: 'limit: Input should be ...'."""
    parts = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        where = ".".join(location[1:] if location[:1] in (["query"], ["path"]) else location)
        # pydantic prefixes the message of a validator's ValueError with "Value error, ".
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ").rstrip(".")
        parts.append(f"{where}: {message}" if where else message)
    return ("; ".join(parts) or "The request is not valid") + "."


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    """One error shape everywhere (issue 15): `{"detail": "<sentence>"}`, not FastAPI's list."""
    if not isinstance(exc, RequestValidationError):  # registered for it only
        return await _handle_unexpected(request, exc)
    return JSONResponse({"detail": validation_sentence(exc.errors())}, status_code=422)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers: Starlette's 405 names only the
    methods of the first route that matched the path (GET for /api/v1/images/{id})."""
    literal: set[str] = set()
    templated: set[str] = set()
    probe = {**request.scope, "method": "\x00"}  # no route takes it: a path match is PARTIAL
    for context in iter_route_contexts(request.app.router.routes):
        if context.methods and isinstance(context.original_route, Route):
            match, _ = context.matches(probe)
            if match is not Match.NONE:
                is_literal = "{" not in (context.path or "")
                (literal if is_literal else templated).update(context.methods)
    # As in OpenAPI, a literal path (/api/v1/images/random) is its own resource, not
    # an {image_id} of the templated one beside it.
    return sorted(literal or templated)


async def _handle_http(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # registered for it only
        return await _handle_unexpected(request, exc)
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        exc = HTTPException(405, exc.detail, headers={**(exc.headers or {}), "Allow": allow})
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ReactbinError, _handle_reactbin_error)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(HTTPException, _handle_http)
    for outage in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(outage, _handle_outage)
    app.add_exception_handler(Exception, _handle_unexpected)
