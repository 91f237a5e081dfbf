"""OpenAPI declarations shared by every route, so `/openapi.json` states exactly what
the server answers (issue 15; checked by the Schemathesis test, tests/e2e/test_contract.py).

    @router.get("/{image_id}", response_model=ImageRead, responses=responses(404, 422, 503))

Every error is `{"detail": "<one sentence>"}` (`ErrorDetail`), FastAPI's
validation errors included (`app/errors.py` renders them as one sentence), so
one schema serves every status. The Tenor-compatible routes answer Google's
shape instead (`app/tenor/router.py` declares it). File routes use
`file_responses(...)`: their bodies are bytes of the given types, not JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

Responses = dict[int | str, dict[str, Any]]
# A JSON Schema `pattern` for text PostgreSQL takes: no NUL anywhere.
NO_NUL = "^[^\\u0000]*$"


class ErrorDetail(BaseModel):
    detail: str = Field(description="One human sentence saying what was wrong.")


DESCRIPTIONS: dict[int, str] = {
    400: "A malformed request: a body that cannot be parsed, a bad header",
    401: "Missing, malformed, expired, revoked or wrongly signed token",
    403: "Refused",
    404: "Not found",
    409: "Conflicts with what is stored",
    413: "Too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Invalid input: a parameter or field out of range, of the wrong type, or unreadable",
    429: "Too many requests; see Retry-After",
    503: "PostgreSQL or storage is unavailable; try again shortly",
}
_STRING = {"schema": {"type": "string"}}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {**_STRING, "description": "`Bearer`"}},
    416: {"Content-Range": {**_STRING, "description": "`bytes */<size>`"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
}


def responses(*codes: int, descriptions: Mapping[int, str] | None = None) -> Responses:
    """The `responses=` of a route: each status with `ErrorDetail`, a standard
    description (or the route's own, from `descriptions`) and its headers."""
    own = descriptions or {}
    declared: Responses = {}
    for code in codes:
        entry: dict[str, Any] = {
            "model": ErrorDetail,
            "description": own.get(code, DESCRIPTIONS.get(code, "Error")),
        }
        if code in HEADERS:
            entry["headers"] = HEADERS[code]
        declared[code] = entry
    return declared


def owner_page_responses() -> Responses:
    """An owner-only paged listing's errors: no token, a bad limit or cursor, no database."""
    return responses(401, 422, 503, descriptions={422: "Bad limit or cursor"})


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_FILE_HEADERS = {
    "ETag": {**_STRING, "description": "Strong; send it as If-None-Match for a 304"},
    "Cache-Control": {**_STRING, "description": "`public, max-age=31536000, immutable`"},
    "Content-Length": {"schema": {"type": "integer"}},
    "Access-Control-Allow-Origin": {**_STRING, "description": "`*`"},
}


def file_responses(*media_types: str, not_found: str = "No such file") -> Responses:
    """A file route's answers: the bytes (whole, or one range), 304, 404, 416, 503."""
    content = dict.fromkeys(media_types, _BINARY)
    return {
        200: {"description": "The bytes", "content": content, "headers": _FILE_HEADERS},
        206: {
            "description": "The single byte range asked for with `Range`",
            "content": content,
            "headers": {**_FILE_HEADERS, "Content-Range": _STRING},
        },
        304: {"description": "Not modified (`If-None-Match` matched the ETag); no body"},
        **responses(404, 416, 503, descriptions={404: not_found}),
    }


def _drop_default_validation_errors(document: dict[str, Any]) -> None:
    """FastAPI adds `422 HTTPValidationError` (a list) to every route with parameters;
    the server answers `ErrorDetail`, and only routes that can fail validation
    declare 422 (through `responses`)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.get("responses", {})
            schema = answers.get("422", {}).get("content", {}).get("application/json", {})
            if schema.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del answers["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def install_openapi(app: FastAPI) -> None:
    """`app.openapi()` builds the document once, without FastAPI's default 422."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            _drop_default_validation_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
