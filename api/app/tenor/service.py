"""The Tenor-compatible result pages (search, featured, posts) and shares.

`search` is the gallery's own search (`app.search.service.list_images`, as
GET /api/v1/images?q=): the same matches, order and cursors, so a picker
finds exactly what the web gallery finds. Only what the gallery has no use
for (aspect-ratio and animated-only filters, a shuffled order, the featured
list) is listed here, with the same tsquery (word forms, prefixes, typos).
Terms (categories, autocomplete...) live in `terms.py`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, NotFound, Unprocessable
from app.ids import is_valid_id
from app.pagination import CursorCodec, InvalidCursor
from app.search import repository as search_repository
from app.search import service as search_service
from app.search.query import parse_query
from app.tenor import repository
from app.tenor.media import Shown, media_formats
from app.tenor.params import Motion, Position
from app.tenor.repository import Order, PageQuery
from app.tenor.schemas import ResultData, ResultsPageData

POS_REFUSED = "pos is not valid: pass the `next` of the previous page, or an offset."


class Listed(Shown, Protocol):
    """What a result shows of an image (the ORM row and the search's record both have it)."""

    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def ocr_text(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def tag_names(self) -> list[str]: ...


@dataclass(frozen=True)
class PageRequest:
    query: str
    limit: int
    pos: Position
    wanted: frozenset[str] | None
    aspect: tuple[int, int] | None
    motion: Motion
    random: bool


async def _results(
    session: AsyncSession, images: Sequence[Listed], base_url: str, wanted: frozenset[str] | None
) -> list[ResultData]:
    stored = await repository.stored_media(session, [image.id for image in images])
    results: list[ResultData] = []
    for image in images:
        if image.id not in stored:  # deleted since the page was read
            continue
        link = f"{base_url}/i/{image.id}"
        results.append(
            {
                "id": image.id,
                "title": image.title,
                "content_description": image.description or image.title,
                "created": image.created_at.timestamp(),
                "itemurl": link,
                "url": link,
                "tags": list(image.tag_names),
                "flags": [],
                "hasaudio": False,
                "hascaption": bool(image.ocr_text and image.ocr_text.strip()),
                "media_formats": media_formats(image, stored[image.id], base_url, wanted),
            }
        )
    return results


def _digest(request: PageRequest, order: Order) -> str:
    """Ties a `next` to its listing: replayed against another one it is refused."""
    parts = [order, request.query, repr(request.aspect), request.motion]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _encode_keys(keys: list[Any]) -> list[Any]:
    return [key.isoformat() if isinstance(key, datetime) else key for key in keys]


def _decode_keys(order: Order, raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise ValueError("keys")
    if order == "relevance":
        return [float(raw[0]), datetime.fromisoformat(raw[1]), str(raw[2])]
    if order == "featured":
        return [int(raw[0]), datetime.fromisoformat(raw[1]), str(raw[2])]
    return [str(raw[0]), str(raw[1])]


def _read_cursor(
    codec: CursorCodec, cursor: str, digest: str, order: Order
) -> tuple[list[Any], str]:
    """(keyset position, shuffle seed) from a `next` this server issued for this listing."""
    try:
        payload = codec.decode(cursor)
        if payload.get("tv") != digest:
            raise ValueError("another listing")
        return _decode_keys(order, payload["k"]), str(payload.get("s", ""))
    except (InvalidCursor, KeyError, IndexError, TypeError, ValueError):
        raise BadRequest(
            "pos is not valid: pass the `next` of the previous page, or an offset."
        ) from None


async def list_page(
    session: AsyncSession, codec: CursorCodec, base_url: str, request: PageRequest
) -> ResultsPageData:
    """`search` (with a query) and `featured` (without): one page and the next `pos`."""
    if request.motion == "sticker" or request.pos.at_end:
        # A reaction library holds no transparent stickers; past the end there is nothing.
        return {"results": [], "next": ""}
    if request.query and request.aspect is None and request.motion == "any" and not request.random:
        return await _library_search(session, codec, base_url, request)
    return await _own_listing(session, codec, base_url, request)


async def _library_search(
    session: AsyncSession, codec: CursorCodec, base_url: str, request: PageRequest
) -> ResultsPageData:
    """The gallery's own search (GET /api/v1/images?q=), its order and its cursors."""
    offset = request.pos.offset
    try:
        if offset is None:
            images, cursor = await search_service.list_images(
                session,
                codec,
                tags=(),
                limit=request.limit,
                cursor=request.pos.cursor,
                query=request.query,
            )
            next_pos = cursor or ""
        else:
            # An offset is read as a longer first page; offsets are capped (MAX_OFFSET).
            images, cursor = await search_service.list_images(
                session,
                codec,
                tags=(),
                limit=offset + request.limit,
                cursor=None,
                query=request.query,
            )
            images = images[offset:]
            next_pos = str(offset + request.limit) if cursor else ""
    except Unprocessable as exc:
        raise BadRequest(POS_REFUSED if request.pos.cursor else exc.message) from None
    return {"results": await _results(session, images, base_url, request.wanted), "next": next_pos}


async def _own_listing(
    session: AsyncSession, codec: CursorCodec, base_url: str, request: PageRequest
) -> ResultsPageData:
    """Featured, shuffled, or searched with filters the gallery's search has no use for
    (aspect ratio, animated only): the same matches, ranked by `ts_rank`."""
    tsquery = None
    if request.query:
        parsed = parse_query(request.query)
        if parsed is None:  # only punctuation: nothing can match
            return {"results": [], "next": ""}
        tsquery = await search_repository.build_tsquery(session, parsed)
    order: Order = (
        "random" if request.random else ("relevance" if tsquery is not None else "featured")
    )
    query = PageQuery(
        order=order,
        tsquery=tsquery,
        aspect=request.aspect,
        animated_only=request.motion == "animated",
    )
    digest = _digest(request, order)
    after = None
    if request.pos.cursor is not None:
        after, seed = _read_cursor(codec, request.pos.cursor, digest, order)
        query = replace(query, seed=seed)
    elif order == "random":
        query = replace(query, seed=secrets.token_hex(4))
    # One extra row tells whether another page exists without a COUNT.
    rows = await repository.page(
        session, query, limit=request.limit + 1, after=after, offset=request.pos.offset or 0
    )
    page, more = rows[: request.limit], len(rows) > request.limit
    next_pos = ""
    if more and request.pos.is_offset:
        # A client that pages with offsets gets an offset back.
        next_pos = str((request.pos.offset or 0) + request.limit)
    elif more:
        payload = {"tv": digest, "k": _encode_keys(page[-1][1])}
        if order == "random":
            payload["s"] = query.seed
        next_pos = codec.encode(payload)
    images = [image for image, _ in page]
    return {"results": await _results(session, images, base_url, request.wanted), "next": next_pos}


async def posts(
    session: AsyncSession, base_url: str, ids: list[str], wanted: frozenset[str] | None
) -> ResultsPageData:
    """The images with these ids, in the order asked; unknown ids are skipped."""
    images = await repository.by_ids(session, [i for i in ids if is_valid_id(i)])
    return {"results": await _results(session, images, base_url, wanted), "next": ""}


async def register_share(session: AsyncSession, image_id: str) -> None:
    if not image_id:
        raise BadRequest("id is required: the id of the shared result.")
    if not is_valid_id(image_id) or not await repository.count_share(session, image_id):
        raise NotFound("No result with that id.")
