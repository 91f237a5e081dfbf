"""`GET /api/v1/images`: the list, newest first or by relevance to `q`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.dependencies import CursorDep, SessionDep, SettingsDep
from app.images import service as images_service
from app.images.router import MAX_QUERY_LENGTH, TagQuery, normalized_tags
from app.images.schemas import ImagePage
from app.readcache.middleware import cacheable
from app.search import service

router = APIRouter(prefix="/api/v1/images", tags=["images"])


@router.get("", response_model=ImagePage, responses={422: {"description": "Bad limit or cursor"}})
@cacheable
async def list_images(
    session: SessionDep,
    settings: SettingsDep,
    codec: CursorDep,
    tags: TagQuery = None,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_LENGTH)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ImagePage:
    """Newest first (or by relevance with `q`), filtered by tags, paged with an opaque cursor."""
    images, next_cursor = await service.list_images(
        session, codec, tags=normalized_tags(tags or []), limit=limit, cursor=cursor, query=q
    )
    return ImagePage(
        items=[images_service.to_read(image, settings.api_base_url) for image in images],
        next_cursor=next_cursor,
    )
