"""`/f/{id}/{format}.{ext}`: a rendition's bytes, served like the original.

Same safety headers, strong ETag, 304 and single byte ranges as `/f/{id}.{ext}`
(`images/files.py`). The extension must be the rendition's own: `tinygif.mp4`
is a 404, never the GIF under another name (a browser sniffing nothing relies
on the type the URL promises).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.dependencies import SessionDep, StorageDep
from app.errors import NotFound
from app.ids import is_valid_id
from app.images.files import serve_object
from app.openapi import file_responses
from app.renditions import repository
from app.renditions.formats import EXTENSIONS, FORMATS, rendition_version
from app.renditions.models import Rendition

router = APIRouter(tags=["files"])

_RESPONSES = file_responses(
    *EXTENSIONS, not_found="No such image or format, or the rendition is not made yet"
)


def rendition_etag(rendition: Rendition) -> str:
    """Changes when a rebuild writes new bytes (new row time), like a content hash would."""
    made = rendition_version(rendition.created_at)
    return f'"r-{rendition.image_id}-{rendition.format}-{made}-{rendition.size_bytes:x}"'


@router.head("/f/{image_id}/{filename}", include_in_schema=False)
@router.get("/f/{image_id}/{filename}", response_class=Response, responses=_RESPONSES)
async def rendition_file(
    image_id: str, filename: str, request: Request, session: SessionDep, storage: StorageDep
) -> Response:
    """A rendition (`tinygif.gif`, `mp4.mp4`, ...): the formats of the Tenor-compatible API."""
    fmt, _, extension = filename.partition(".")
    rendition = None
    if is_valid_id(image_id) and fmt in FORMATS:
        rendition = await repository.get(session, image_id, fmt)
    if rendition is None or EXTENSIONS.get(rendition.mime_type) != extension:
        raise NotFound("No such rendition.")
    # Immutable only under the URL of this build (`?v=`, as answers link it); any other
    # URL of the rendition revalidates, so a rebuild is seen there too.
    current = request.query_params.get("v") == rendition_version(rendition.created_at)
    return await serve_object(
        request,
        storage,
        key=rendition.key,
        size=rendition.size_bytes,
        etag=rendition_etag(rendition),
        media_type=rendition.mime_type,
        filename=f"{image_id}-{fmt}.{extension}",
        cache_control=None if current else "public, no-cache",
    )
