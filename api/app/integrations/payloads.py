"""Reading what the chat apps send: the raw body (bounded), then the form or the
JSON inside it, each malformed part refused with a 400 and nothing done."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request

from app.errors import BadRequest, TooLarge

# Slack's largest (an interaction carrying the whole message) stay well under
# 20 KB; Discord's and Mattermost's are smaller.
MAX_BODY_BYTES = 64 * 1024
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def read_body(request: Request) -> bytes:
    """The body as sent (signatures cover these exact bytes), at most MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_form(body: bytes) -> dict[str, str]:
    """A urlencoded form's fields (the first value of each)."""
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The form is not valid UTF-8 urlencoded data.") from None
    return {name: values[0] for name, values in fields.items()}


def parse_json(raw: str | bytes, what: str = "body") -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest(f"The {what} is not valid JSON.") from None
    if not isinstance(value, dict):
        raise BadRequest(f"The {what} must be a JSON object.")
    return value


def text_field(fields: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = fields.get(name, "")
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"The field {name} is missing or not text.")
    return value


def id_field(fields: dict[str, Any], name: str) -> str:
    """An id of the chat app (team, user...): letters, digits and ._- only."""
    value = fields.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID.match(value):
        raise BadRequest(f"The field {name} is missing or not an id.")
    return value


def nested(fields: dict[str, Any], name: str) -> dict[str, Any]:
    value = fields.get(name)
    if not isinstance(value, dict):
        raise BadRequest(f"The field {name} is missing or not an object.")
    return value
