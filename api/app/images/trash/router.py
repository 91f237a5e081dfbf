"""`/api/v1/trash`: what `DELETE /api/v1/images/{id}` put aside (owner only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.auth.dependencies import Owner
from app.dependencies import (
    CursorDep,
    PageCursor,
    PageLimit,
    SessionDep,
    SettingsDep,
    StorageDep,
)
from app.ids import ALPHABET, ID_LENGTH
from app.images import service as images_service
from app.images.schemas import DuplicateDetail, ImageRead
from app.images.trash import service
from app.images.trash.schemas import TrashPage
from app.openapi import owner_page_responses, responses

router = APIRouter(prefix="/api/v1/trash", tags=["trash"])


_ID_PATTERN = f"^[{ALPHABET}]{{{ID_LENGTH}}}$"
TrashedId = Annotated[str, Path(min_length=ID_LENGTH, max_length=ID_LENGTH, pattern=_ID_PATTERN)]
_ERRORS = responses(
    401,
    404,
    422,
    503,
    descriptions={
        404: "No image with that id in the trash",
        422: "Not an image id (10 letters and digits)",
    },
)


@router.get("", response_model=TrashPage, responses=owner_page_responses())
async def list_trash(
    _owner: Owner,
    session: SessionDep,
    settings: SettingsDep,
    codec: CursorDep,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> TrashPage:
    """Images in the trash, most recently deleted first, with when each will be purged."""
    rows, next_cursor = await service.list_trash(session, codec, limit=limit, cursor=cursor)
    days = settings.trash_days
    return TrashPage(
        items=[service.to_read(row, days) for row in rows], next_cursor=next_cursor, trash_days=days
    )


@router.post(
    "/{image_id}/restore",
    response_model=ImageRead,
    responses={
        **_ERRORS,
        409: {"model": DuplicateDetail, "description": "The library holds the same bytes"},
    },
)
async def restore_image(
    image_id: TrashedId, _owner: Owner, session: SessionDep, settings: SettingsDep
) -> ImageRead:
    """Bring the image back with the same id: its links, tags and renditions work again."""
    image = await service.restore(session, image_id)
    return images_service.to_read(image, settings.api_base_url)


@router.delete("/{image_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def purge_image(
    image_id: TrashedId, _owner: Owner, session: SessionDep, storage: StorageDep
) -> Response:
    """Delete the image and every stored object of it for good, now."""
    await service.purge(session, storage, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
