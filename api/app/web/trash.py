"""The owner's trash page: what was deleted, with Restore and Delete forever.

Same services as `/api/v1/trash`; every POST checks the CSRF token first.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from app.dependencies import CursorDep, PageCursor, SettingsDep, StorageDep
from app.dependencies import SessionDep as DbDep
from app.errors import NotFound
from app.ids import is_valid_id
from app.images.keys import thumbnail_key
from app.images.trash import service
from app.storage import ObjectNotFound
from app.web.forms import read_form
from app.web.owner import check_csrf
from app.web.pages import OwnerDep, PageRoute, render
from app.web.session import CSRF_FIELD

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 48


@router.get("/trash")
async def trash_page(
    request: Request,
    session: OwnerDep,
    db: DbDep,
    settings: SettingsDep,
    codec: CursorDep,
    cursor: PageCursor = None,
) -> Response:
    rows, next_cursor = await service.list_trash(db, codec, limit=PAGE_SIZE, cursor=cursor)
    days = settings.trash_days
    return render(
        request,
        session,
        "trash.html",
        items=[service.to_read(row, days) for row in rows],
        next_cursor=next_cursor,
        trash_days=days,
        restored=request.query_params.get("restored"),
        purged="purged" in request.query_params,
    )


@router.get("/trash/{image_id}/thumbnail")
async def trashed_thumbnail(image_id: str, _session: OwnerDep, storage: StorageDep) -> Response:
    """A trashed image keeps its thumbnail in the bucket: shown to the owner only."""
    if not is_valid_id(image_id):
        raise NotFound("No such image.")
    try:
        stored = await storage.get(thumbnail_key(image_id))
    except ObjectNotFound:
        raise NotFound("No such image.") from None
    try:
        body = b"".join([chunk async for chunk in stored.body])
    finally:
        await stored.close()
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type="image/webp", headers=headers)


@router.post("/trash/{image_id}/restore")
async def restore(image_id: str, request: Request, session: OwnerDep, db: DbDep) -> Response:
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    await service.restore(db, image_id)
    return RedirectResponse(f"/trash?restored={image_id}", status_code=303)


@router.post("/trash/{image_id}/delete")
async def purge(
    image_id: str, request: Request, session: OwnerDep, db: DbDep, storage: StorageDep
) -> Response:
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    await service.purge(db, storage, image_id)
    return RedirectResponse("/trash?purged", status_code=303)
