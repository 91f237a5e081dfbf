"""The owner's pages: log in and out, upload, edit, delete.

Every POST checks the CSRF token before it changes anything. Uploads go through
the same `upload_image` use case as `POST /api/v1/images`; the browser's
multi-file upload posts here with `Accept: application/json` and the token in
the X-CSRF-Token header, so the API itself stays Bearer-only (no cookie, no
CSRF surface).
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError

from app.auth import repository as auth_repository
from app.auth.bootstrap import AuthSecrets
from app.auth.dependencies import client_address
from app.auth.service import authenticate
from app.config import Settings
from app.dependencies import SessionDep as DbDep
from app.dependencies import SettingsDep, StorageDep
from app.errors import Duplicate, ReactbinError
from app.images import service
from app.images.receive import receive_image_upload
from app.images.schemas import ImageUpdate
from app.images.trash import service as trash_service
from app.images.upload import upload_image, upload_or_restore
from app.web.forms import read_form
from app.web.pages import (
    CsrfRefused,
    OwnerDep,
    PageRoute,
    SessionDep,
    render,
    wants_json,
)
from app.web.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    SessionSigner,
    WebSession,
    end_session,
    start_session,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
log = structlog.get_logger()


def check_csrf(request: Request, session: WebSession, submitted: str | None) -> None:
    """403 unless the token matches; browsers also say outright when a request is cross-site."""
    if request.headers.get("sec-fetch-site") == "cross-site" or not session.check_csrf(submitted):
        log.warning("web.csrf_refused", path=request.url.path)
        raise CsrfRefused


def typed_tags(text: str) -> list[str]:
    """A person typing "dog, cat, " means two tags: the form forgives the stray comma
    that the API (rightly, for scripts) refuses."""
    return [part for part in text.split(",") if part.strip()]


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://...`."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or c == "\\" for c in target) or len(target) > 500:
        return "/"
    return target


@router.get("/login")
async def login_page(
    request: Request,
    session: SessionDep,
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
) -> Response:
    if session.is_owner:
        return RedirectResponse(safe_next(next_), status_code=303)
    return render(request, session, "login.html", next=safe_next(next_), error=None, username="")


@router.post("/login")
async def login(request: Request, session: SessionDep, db: DbDep) -> Response:
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    auth: AuthSecrets = request.app.state.auth_secrets
    username, password, target = form.get("username"), form.get("password"), form.get("next")

    def again(status_code: int, error: str) -> Response:
        return render(
            request,
            session,
            "login.html",
            status_code,
            next=safe_next(target),
            error=error,
            username=username,
        )

    try:
        version = await authenticate(
            db,
            username,
            password,
            limiter=request.app.state.login_limiter,
            secrets=auth,
            client=client_address(request),
        )
    except ReactbinError as exc:
        response = again(exc.status_code, exc.message)
        response.headers.update(exc.headers or {})
        return response
    response = RedirectResponse(safe_next(target), status_code=303)
    start_session(response, SessionSigner(auth), version=version, secure=session.secure)
    return response


@router.get("/logout")
async def logout_page(request: Request, session: SessionDep) -> Response:
    if not session.is_owner:
        return RedirectResponse("/", status_code=303)
    return render(request, session, "logout.html")


@router.post("/logout")
async def logout(request: Request, session: SessionDep, db: DbDep) -> Response:
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    if session.owner is not None and form.get("everywhere"):
        # The same switch as `POST /api/v1/auth/logout`: every session and API token ends.
        await auth_repository.bump_token_version(db, session.owner)
        log.info("web.signed_out_everywhere")
    response = RedirectResponse("/", status_code=303)
    end_session(response, secure=session.secure)
    return response


@router.get("/upload")
async def upload_page(request: Request, session: OwnerDep, settings: SettingsDep) -> Response:
    return render(request, session, "upload.html", **_upload_context(settings))


def _upload_context(settings: Settings, **values: Any) -> dict[str, Any]:
    return {
        "max_bytes": settings.max_upload_bytes,
        "error": None,
        "duplicate_id": None,
        "values": {"title": "", "description": "", "tags": ""},
    } | values


@router.post("/upload")
async def upload(
    request: Request,
    session: OwnerDep,
    db: DbDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> Response:
    header_token = request.headers.get(CSRF_HEADER)
    if header_token is not None:
        check_csrf(request, session, header_token)  # before a byte of the body is read
    received = await receive_image_upload(request, settings)
    try:
        if header_token is None:
            check_csrf(request, session, _last(received.fields.get(CSRF_FIELD)))
        received.fields["tags"] = typed_tags(",".join(received.fields.get("tags", [])))
        queue = request.app.state.queue
        if wants_json(request):
            image, restored = await upload_or_restore(db, storage, settings, received, queue)
            body = service.to_read(image, settings.api_base_url).model_dump(mode="json")
            alike = [d.model_dump() for d in await service.near_duplicates(db, image)]
            body |= {"page_url": f"/i/{image.id}", "near_duplicates": alike}
            if restored:  # the same bytes were in the trash: that image is back
                return JSONResponse({**body, "restored_from_trash": True}, status_code=200)
            return JSONResponse(body, status_code=201)
        try:
            image = await upload_image(db, storage, settings, received, queue)
        except ReactbinError as exc:
            values = {name: _last(received.fields.get(name)) or "" for name in _UPLOAD_FIELDS}
            context = _upload_context(settings, error=exc.message, values=values)
            if isinstance(exc, Duplicate):
                context["duplicate_id"] = exc.extra.get("id")
            return render(request, session, "upload.html", exc.status_code, **context)
    finally:
        received.discard()
    return RedirectResponse(f"/i/{image.id}?uploaded", status_code=303)


_UPLOAD_FIELDS = ("title", "description", "tags")


def _last(values: list[str] | None) -> str | None:
    return values[-1] if values else None


@router.get("/i/{image_id}/edit")
async def edit_page(
    image_id: str, request: Request, session: OwnerDep, db: DbDep, settings: SettingsDep
) -> Response:
    image = service.to_read(await service.get_image(db, image_id), settings.api_base_url)
    values = {
        "title": image.title,
        "description": image.description,
        "tags": ", ".join(image.tags),
        "ocr_text": image.ocr_text or "",
    }
    return render(
        request,
        session,
        "edit.html",
        image=image,
        values=values,
        errors=[],
        trash_days=settings.trash_days,
    )


@router.post("/i/{image_id}/edit")
async def edit(
    image_id: str, request: Request, session: OwnerDep, db: DbDep, settings: SettingsDep
) -> Response:
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    values = {name: form.get(name) for name in ("title", "description", "tags", "ocr_text")}
    try:
        update = ImageUpdate(
            title=values["title"],
            description=values["description"],
            tags=typed_tags(values["tags"]),
            ocr_text=values["ocr_text"],
        )
    except ValidationError as exc:
        image = service.to_read(await service.get_image(db, image_id), settings.api_base_url)
        errors = [str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()]
        return render(
            request,
            session,
            "edit.html",
            422,
            image=image,
            values=values,
            errors=errors,
            trash_days=settings.trash_days,
        )
    await service.update_image(db, image_id, update)
    return RedirectResponse(f"/i/{image_id}?saved", status_code=303)


@router.post("/i/{image_id}/delete")
async def delete(
    image_id: str,
    request: Request,
    session: OwnerDep,
    db: DbDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> Response:
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    await trash_service.discard_image(db, storage, settings, image_id)
    return RedirectResponse("/?deleted", status_code=303)
