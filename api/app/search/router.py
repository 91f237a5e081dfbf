"""`GET /api/v1/images`: the list, newest first or by relevance to `q`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import WithJsonSchema

from app.dependencies import CursorDep, SessionDep, SettingsDep
from app.images import encode
from app.images.router import MAX_QUERY_LENGTH, TagQuery, normalized_tags
from app.images.schemas import ImagePage
from app.openapi import NO_NUL, responses
from app.readcache.middleware import cacheable
from app.search import service

router = APIRouter(prefix="/api/v1/images", tags=["images"])


@router.get("", response_model=ImagePage, responses=responses(422, 503))
@cacheable
async def list_images(
    session: SessionDep,
    settings: SettingsDep,
    codec: CursorDep,
    tags: TagQuery = None,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_LENGTH),
        WithJsonSchema({"type": "string", "maxLength": MAX_QUERY_LENGTH, "pattern": NO_NUL}),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Newest first (or by relevance with `q`), filtered by tags, paged with an opaque cursor."""
    images, next_cursor = await service.list_images(
        session, codec, tags=normalized_tags(tags or []), limit=limit, cursor=cursor, query=q
    )
    # The bytes `response_model` would give, written from the rows (app/images/encode.py).
    body = encode.page_body(images, next_cursor, settings.api_base_url)
    return Response(body, media_type="application/json")
