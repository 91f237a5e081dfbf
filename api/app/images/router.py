from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import WithJsonSchema

from app.auth.dependencies import Owner
from app.dependencies import SessionDep, SettingsDep, StorageDep
from app.errors import Unprocessable
from app.images import encode, service
from app.images.files import serve_object
from app.images.receive import MAX_FIELD_BYTES, receive_image_upload
from app.images.schemas import (
    DESCRIPTION_SCHEMA,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE,
    NO_CONTROL_SCHEMA,
    TAG_SCHEMA,
    DuplicateDetail,
    FieldError,
    ImageCreated,
    ImageRead,
    ImageRestored,
    ImageUpdate,
    SimilarPage,
    normalize_tag,
)
from app.images.trash import service as trash_service
from app.images.upload import upload_or_restore
from app.openapi import file_responses, responses
from app.readcache.middleware import cacheable

router = APIRouter(prefix="/api/v1/images", tags=["images"])

TagQuery = Annotated[
    list[str] | None,
    Query(alias="tag", description="Repeatable; images carrying all of them."),
    WithJsonSchema({"type": "array", "items": TAG_SCHEMA}),
]
MAX_QUERY_LENGTH = 500
JSON = "application/json"

_TAGS_FIELD = NO_CONTROL_SCHEMA
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "GIF, PNG, JPEG or WebP, at most MAX_UPLOAD_BYTES.",
                        },
                        "title": {
                            **NO_CONTROL_SCHEMA,
                            "maxLength": MAX_TITLE,
                            "description": "Blank: made from the file name.",
                        },
                        "description": DESCRIPTION_SCHEMA,
                        "tags": {
                            "description": "Comma-separated, or the field repeated; at most "
                            f"{MAX_TAGS} tags of {MAX_TAG_LENGTH} characters; each field at most "
                            f"{MAX_FIELD_BYTES // 1024} KiB.",
                            "anyOf": [_TAGS_FIELD, {"type": "array", "items": _TAGS_FIELD}],
                        },
                    },
                }
            }
        },
    }
}
_NO_IMAGE = {404: "No image with that id"}
_ORIGINAL_TYPES = ("image/gif", "image/png", "image/jpeg", "image/webp")


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
        **responses(
            400,
            401,
            408,
            413,
            415,
            422,
            503,
            descriptions={
                400: "A Content-Length that is not a number",
                413: "Larger than MAX_UPLOAD_BYTES",
                415: "Not a GIF, PNG, JPEG or WebP, or not multipart/form-data",
                422: "Corrupt, truncated or too many pixels or frames, a field too long, "
                "a bad tag, a missing `file`, or a malformed multipart body",
            },
        ),
        200: {
            "model": ImageRestored,
            "description": "The same bytes were in the trash: that image was restored",
        },
        409: {"model": DuplicateDetail, "description": "Byte-identical image exists"},
    },
)
async def create_image(
    request: Request,
    response: Response,
    _owner: Owner,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> ImageCreated | JSONResponse:
    """Upload one image (multipart: `file`, and optional `title`, `description`, `tags`).

    Bytes identical to an image in the trash restore that image (200, `restored_from_trash`)."""
    # The body is read only here, after the owner dependency passed: a request
    # without a valid token is refused before a byte of the upload is read.
    received = await receive_image_upload(request, settings)
    try:
        queue = request.app.state.queue
        image, restored = await upload_or_restore(session, storage, settings, received, queue)
    finally:
        received.discard()
    location = f"{settings.api_base_url}/api/v1/images/{image.id}"
    created = service.to_read(image, settings.api_base_url).model_dump()
    alike = await service.near_duplicates(session, image)
    if restored:
        body = ImageRestored(**created, near_duplicates=alike).model_dump(mode="json")
        return JSONResponse(body, headers={"Location": location})
    response.headers["Location"] = location
    return ImageCreated(**created, near_duplicates=alike)


@router.get(
    "/random",
    response_model=ImageRead,
    responses=responses(404, 422, 503, descriptions={404: "No image carries those tags"}),
)
async def random_image(
    session: SessionDep, settings: SettingsDep, tags: TagQuery = None
) -> ImageRead:
    """A random image, optionally among those carrying every given tag."""
    image = await service.random_image(session, normalized_tags(tags or []))
    return service.to_read(image, settings.api_base_url)


@router.get("/{image_id}", response_model=ImageRead, responses=responses(404, 503))
@cacheable
async def get_image(image_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    image = await service.read_image(session, image_id)
    return Response(encode.image_body(image, settings.api_base_url), media_type=JSON)


@router.get("/{image_id}/similar", response_model=SimilarPage, responses=responses(404, 503))
@cacheable
async def similar_images(image_id: str, session: SessionDep, settings: SettingsDep) -> SimilarPage:
    """Images that look alike (perceptual hash), closest first."""
    images = await service.similar_images(session, image_id)
    return SimilarPage(items=[service.to_read(image, settings.api_base_url) for image in images])


@router.patch(
    "/{image_id}",
    response_model=ImageRead,
    responses=responses(400, 401, 404, 422, 503, descriptions=_NO_IMAGE),
)
async def update_image(
    image_id: str, update: ImageUpdate, _owner: Owner, session: SessionDep, settings: SettingsDep
) -> ImageRead:
    """Change any of title, description, tags (replaces the list), ocr_text."""
    image = await service.update_image(session, image_id, update)
    return service.to_read(image, settings.api_base_url)


@router.delete(
    "/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(401, 404, 503, descriptions=_NO_IMAGE),
)
async def delete_image(
    image_id: str, _owner: Owner, session: SessionDep, storage: StorageDep, settings: SettingsDep
) -> Response:
    """Move the image to the trash (restorable for TRASH_DAYS; its links answer 404 at once).
    With TRASH_DAYS=0: delete it with its original, thumbnail and every other object."""
    await trash_service.discard_image(session, storage, settings, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.head("/{image_id}/file", include_in_schema=False)
@router.get("/{image_id}/file", response_class=Response, responses=file_responses(*_ORIGINAL_TYPES))
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
@router.get(
    "/{image_id}/thumbnail", response_class=Response, responses=file_responses("image/webp")
)
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
@files_router.get(
    "/f/{filename}", response_class=Response, responses=file_responses(*_ORIGINAL_TYPES)
)
async def direct_file(
    filename: str, request: Request, session: SessionDep, storage: StorageDep
) -> Response:
    """The direct link: `/f/{id}.{ext}`. Any extension is accepted; the id decides the file."""
    image_id = filename.split(".", 1)[0]
    return await image_file(image_id, request, session, storage)
