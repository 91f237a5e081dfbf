"""The Tenor routes' parameters and answers as the OpenAPI document states them.

The handlers read every parameter as an optional string and parse it by hand
(`params.py`), so that every refusal is Google-shaped; FastAPI would describe
them all as "any string". Here each one is described as the parser takes it:
`limit` an integer (clamped to 1-50), `ar_range` one of its words, `ids` and
registershare's `id` required, `q` without NUL and at most 500 characters.
"""

from __future__ import annotations

from typing import Any

from app.tenor.params import MAX_IDS, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_LENGTH
from app.tenor.schemas import GoogleError

_ANY = {"type": "string"}
# JSON Schema's pattern is a search: "no NUL anywhere" (PostgreSQL text cannot hold it).
_TEXT = {"type": "string", "maxLength": MAX_QUERY_LENGTH, "pattern": "^[^\\u0000]*$"}
_SPECS: dict[str, tuple[dict[str, Any], str]] = {
    "key": (_ANY, "One of TENOR_API_KEYS; required (403 without) when that is set."),
    "q": (_TEXT, f"Search text, at most {MAX_QUERY_LENGTH} characters once trimmed."),
    # Empty (or blank) is the default, as Tenor took it: found by `make fuzz`.
    "limit": (
        {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^\\s*$"}]},
        f"Results wanted; default 20 (also when empty), clamped to 1-{MAX_LIMIT}.",
    ),
    "pos": (
        _ANY,
        f"`next` of the previous page, or an offset (0-{MAX_OFFSET}); empty: past the end. "
        "Anything else is a 400.",
    ),
    "media_filter": (_ANY, "Comma-separated format names; unknown names are dropped."),
    "ar_range": (
        {"type": "string", "enum": ["", "all", "wide", "standard"]},
        "Aspect ratios: all, wide (0.42-2.36) or standard (0.56-1.78); any case.",
    ),
    "random": (
        {"type": "string", "enum": ["", "true", "false", "1", "0", "yes", "no", "on", "off"]},
        "true: random order (any case).",
    ),
    "searchfilter": (_ANY, "`sticker` gives no results; `-static` only animated ones."),
    "contentfilter": (_ANY, "Accepted; the library is yours."),
    "locale": (_ANY, "Accepted and ignored."),
    "country": (_ANY, "Accepted and ignored."),
    "client_key": (_ANY, "Accepted and ignored."),
    # A search: at least one character that is neither a comma nor white space.
    "ids": ({"type": "string", "pattern": "[^,\\s]"}, f"Up to {MAX_IDS} ids, comma-separated."),
    "id": ({"type": "string", "pattern": "[^\\s]"}, "The id of the shared result."),
}
_REQUIRED = frozenset({"ids", "id"})
PAGE_PARAMETERS = (
    "q",
    "limit",
    "pos",
    "media_filter",
    "ar_range",
    "random",
    "searchfilter",
    "contentfilter",
    "locale",
    "country",
    "client_key",
)


def parameters(*names: str) -> dict[str, Any]:
    """The `openapi_extra` of a route: these query parameters, and `key`."""
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": name in _REQUIRED,
                "schema": _SPECS[name][0],
                "description": _SPECS[name][1],
            }
            for name in (*names, "key")
        ]
    }


def google_errors(*codes: int, descriptions: dict[int, str] | None = None) -> dict[int | str, Any]:
    """The `responses=` of a Tenor route: each status with Google's error shape."""
    standard = {
        400: "A parameter is not valid",
        403: "TENOR_API_KEYS is set and `key` is not one of them",
        404: "No result with that id",
        503: "PostgreSQL or storage is unavailable",
    }
    standard.update(descriptions or {})
    return {code: {"model": GoogleError, "description": standard[code]} for code in codes}
