from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from app.auth.dependencies import Owner
from app.dependencies import SessionDep, SettingsDep, StorageDep
from app.errors import Unprocessable
from app.images import service
from app.images.files import serve_object
from app.images.receive import receive_image_upload
from app.images.schemas import (
    DuplicateDetail,
    FieldError,
    ImageCreated,
    ImageRead,
    ImageUpdate,
    SimilarPage,
    normalize_tag,
)
from app.images.upload import upload_image
from app.readcache.middleware import cacheable

router = APIRouter(prefix="/api/v1/images", tags=["images"])

TagQuery = Annotated[
    list[str] | None, Query(alias="tag", description="Repeatable; images carrying all of them.")
]
MAX_QUERY_LENGTH = 500

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string", "maxLength": 200},
                        "description": {"type": "string", "maxLength": 2000},
                        "tags": {
                            "type": "string",
                            "description": "Comma-separated, or repeat the field.",
                        },
                    },
                }
            }
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid token"},
    404: {"description": "No image with that id"},
    422: {"description": "Invalid input"},
}


def normalized_tags(tags: list[str]) -> list[str]:
    try:
        return [normalize_tag(tag) for tag in tags]
    except FieldError as exc:
        raise Unprocessable(str(exc)) from None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageCreated,
    openapi_extra=_UPLOAD_BODY,
    responses={
        **_ERRORS,
        409: {"model": DuplicateDetail, "description": "Byte-identical image exists"},
        413: {"description": "Larger than MAX_UPLOAD_BYTES"},
        415: {"description": "Not a GIF, PNG, JPEG or WebP"},
    },
)
async def create_image(
    request: Request,
    response: Response,
    _owner: Owner,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> ImageCreated:
    """Upload one image (multipart: `file`, and optional `title`, `description`, `tags`)."""
    # The body is read only here, after the owner dependency passed: a request
    # without a valid token is refused before a byte of the upload is read.
    received = await receive_image_upload(request, settings)
    try:
        image = await upload_image(session, storage, settings, received, request.app.state.queue)
    finally:
        received.discard()
    response.headers["Location"] = f"{settings.api_base_url}/api/v1/images/{image.id}"
    created = service.to_read(image, settings.api_base_url)
    return ImageCreated(
        **created.model_dump(), near_duplicates=await service.near_duplicates(session, image)
    )


@router.get(
    "/random", response_model=ImageRead, responses={404: {"description": "Nothing matches"}}
)
async def random_image(
    session: SessionDep, settings: SettingsDep, tags: TagQuery = None
) -> ImageRead:
    """A random image, optionally among those carrying every given tag."""
    image = await service.random_image(session, normalized_tags(tags or []))
    return service.to_read(image, settings.api_base_url)


@router.get("/{image_id}", response_model=ImageRead, responses=_ERRORS)
@cacheable
async def get_image(image_id: str, session: SessionDep, settings: SettingsDep) -> ImageRead:
    image = await service.read_image(session, image_id)
    return service.to_read(image, settings.api_base_url)


@router.get("/{image_id}/similar", response_model=SimilarPage, responses=_ERRORS)
@cacheable
async def similar_images(image_id: str, session: SessionDep, settings: SettingsDep) -> SimilarPage:
    """Images that look alike (perceptual hash), closest first."""
    images = await service.similar_images(session, image_id)
    return SimilarPage(items=[service.to_read(image, settings.api_base_url) for image in images])


@router.patch("/{image_id}", response_model=ImageRead, responses=_ERRORS)
async def update_image(
    image_id: str, update: ImageUpdate, _owner: Owner, session: SessionDep, settings: SettingsDep
) -> ImageRead:
    """Change any of title, description, tags (replaces the list), ocr_text."""
    image = await service.update_image(session, image_id, update)
    return service.to_read(image, settings.api_base_url)


@router.delete("/{image_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_image(
    image_id: str, _owner: Owner, session: SessionDep, storage: StorageDep
) -> Response:
    """Delete the image, its original, its thumbnail and every other stored object."""
    await service.delete_image(session, storage, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.head("/{image_id}/file", include_in_schema=False)
@router.get("/{image_id}/file", responses=_ERRORS)
async def image_file(
    image_id: str, request: Request, session: SessionDep, storage: StorageDep
) -> Response:
    """The original bytes (same as `/f/{id}.{ext}`)."""
    image = await service.read_image(session, image_id)
    return await serve_object(
        request,
        storage,
        key=image.original_key,
        size=image.size_bytes,
        etag=f'"{image.sha256}"',
        media_type=image.mime_type,
        filename=f"{image.id}.{image.extension}",
    )


@router.head("/{image_id}/thumbnail", include_in_schema=False)
@router.get("/{image_id}/thumbnail", responses=_ERRORS)
async def image_thumbnail(
    image_id: str, request: Request, session: SessionDep, storage: StorageDep
) -> Response:
    """A WebP still of the first frame, longest side at most 320 pixels."""
    image = await service.read_image(session, image_id)
    return await serve_object(
        request,
        storage,
        key=image.thumbnail_key,
        size=image.thumbnail_bytes,
        etag=f'"t-{image.sha256}"',
        media_type="image/webp",
        filename=f"{image.id}-thumbnail.webp",
    )


files_router = APIRouter(tags=["files"])


@files_router.head("/f/{filename}", include_in_schema=False)
@files_router.get("/f/{filename}", responses=_ERRORS)
async def direct_file(
    filename: str, request: Request, session: SessionDep, storage: StorageDep
) -> Response:
    """The direct link: `/f/{id}.{ext}`. Any extension is accepted; the id decides the file."""
    image_id = filename.split(".", 1)[0]
    return await image_file(image_id, request, session, storage)
