"""Serving stored bytes: strong ETags, 304, single byte ranges, and headers that
make a hostile file inert in a browser (no sniffing, no script, sandboxed)."""

from __future__ import annotations

import re

import structlog
from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from app.errors import NotFound, RangeNotSatisfiable, ServiceUnavailable
from app.storage import ObjectNotFound, Storage, StorageError

log = structlog.get_logger()

SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    # The bytes behind an id never change, so caches may keep them for a year.
    "Cache-Control": "public, max-age=31536000, immutable",
    "Cross-Origin-Resource-Policy": "cross-origin",
    # Public bytes, as on Tenor's and KLIPY's file hosts: a web client on another
    # origin may fetch() them (Bluesky's web app reads a preview to build its card).
    "Access-Control-Allow-Origin": "*",
}
# ASCII digits only, as RFC 9110 spells them (\d would also take "٣").
_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or etag in candidates


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single satisfiable range; None to send it all.

    Several ranges are answered with the whole file, as RFC 9110 allows."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last N bytes
        length = int(last_text)
        if length == 0:
            raise RangeNotSatisfiable(
                "Requested range not satisfiable.", headers=_unsatisfiable(size)
            )
        return max(size - length, 0), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or (last_text and int(last_text) < first):
        raise RangeNotSatisfiable("Requested range not satisfiable.", headers=_unsatisfiable(size))
    return first, last


def _unsatisfiable(size: int) -> dict[str, str]:
    return {"Content-Range": f"bytes */{size}", **SAFE_HEADERS}


async def serve_object(
    request: Request,
    storage: Storage,
    *,
    key: str,
    size: int,
    etag: str,
    media_type: str,
    filename: str,
    cache_control: str | None = None,
) -> Response:
    headers = {
        **SAFE_HEADERS,
        **({"Cache-Control": cache_control} if cache_control else {}),
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    byte_range = parse_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if byte_range is not None and if_range is not None and if_range.strip() != etag:
        byte_range = None  # the client's copy is stale: send it whole
    status = 200
    length = size
    if byte_range is not None:
        status = 206
        length = byte_range[1] - byte_range[0] + 1
        headers["Content-Range"] = f"bytes {byte_range[0]}-{byte_range[1]}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    try:
        stored = await storage.get(key, byte_range)
    except ObjectNotFound:
        log.error("file.object_missing", key=key)
        raise NotFound("The file of this image is missing from storage.") from None
    except StorageError as exc:
        raise ServiceUnavailable("Storage is unavailable; try again shortly.") from exc
    return StreamingResponse(
        stored.body, status_code=status, headers=headers, media_type=media_type
    )
