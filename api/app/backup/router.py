"""`/api/v1/backup/images` (owner only): read by `reactbin export`, filled by `reactbin restore`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from app.auth.dependencies import Owner
from app.backup import service
from app.backup.schemas import (
    ID_PATTERN,
    MAX_SHARES,
    PHASH_MAX,
    PHASH_MIN,
    SHA256_PATTERN,
    BackupImage,
    BackupPage,
    RestoreResult,
)
from app.dependencies import (
    CursorDep,
    PageCursor,
    PageLimit,
    SessionDep,
    SettingsDep,
    StorageDep,
)
from app.images import service as images_service
from app.images.models import Image
from app.images.receive import receive_image_upload
from app.images.schemas import MAX_DESCRIPTION, MAX_OCR_TEXT, MAX_TAGS, MAX_TITLE, DuplicateDetail
from app.openapi import owner_page_responses, responses

router = APIRouter(prefix="/api/v1/backup", tags=["backup"])


_RESTORE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "id", "title", "sha256", "created_at"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "id": {"type": "string", "pattern": ID_PATTERN},
                        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
                        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
                        "tags": {
                            "type": "array",
                            "items": {"type": "string"},
                            "maxItems": MAX_TAGS,
                        },
                        "ocr_text": {"type": "string", "maxLength": MAX_OCR_TEXT},
                        "sha256": {"type": "string", "pattern": SHA256_PATTERN},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"},
                        "share_count": {"type": "integer", "minimum": 0, "maximum": MAX_SHARES},
                        "phash": {"type": "integer", "minimum": PHASH_MIN, "maximum": PHASH_MAX},
                    },
                }
            }
        },
    }
}


def to_backup(image: Image, base_url: str) -> BackupImage:
    read = images_service.to_read(image, base_url)
    return BackupImage(
        **read.model_dump(include=set(BackupImage.model_fields)),
        share_count=image.share_count,
        phash=image.phash,
    )


@router.get("/images", response_model=BackupPage, responses=owner_page_responses())
async def list_backup(
    _owner: Owner,
    session: SessionDep,
    settings: SettingsDep,
    codec: CursorDep,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> BackupPage:
    """Every image with all a restore needs (share count, perceptual hash...), oldest first."""
    page, next_cursor = await service.list_images(session, codec, limit=limit, cursor=cursor)
    items = [to_backup(image, settings.api_base_url) for image in page]
    return BackupPage(items=items, next_cursor=next_cursor)


@router.post(
    "/images",
    status_code=status.HTTP_201_CREATED,
    response_model=RestoreResult,
    openapi_extra=_RESTORE_BODY,
    responses={
        200: {"model": RestoreResult, "description": "Already there with these bytes: unchanged"},
        **responses(
            401,
            413,
            415,
            422,
            503,
            descriptions={
                413: "Larger than MAX_UPLOAD_BYTES",
                415: "Not a GIF, PNG, JPEG or WebP",
                422: "Bad id, future time, sha256 mismatch, bad field",
            },
        ),
        409: {
            "model": DuplicateDetail,
            "description": "The id has other bytes, or the bytes another id",
        },
    },
)
async def restore_image(
    request: Request,
    response: Response,
    _owner: Owner,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> RestoreResult:
    """Store one image of an export with its id, times and metadata (`reactbin restore`).

    Idempotent: the same image again answers 200 `unchanged`. Nothing is stored on a refusal."""
    received = await receive_image_upload(request, settings)
    try:
        outcome, image = await service.restore_image(
            session, storage, settings, received, request.app.state.queue
        )
    finally:
        received.discard()
    if outcome == "unchanged":
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"{settings.api_base_url}/api/v1/images/{image.id}"
    return RestoreResult(status=outcome, image=images_service.to_read(image, settings.api_base_url))
