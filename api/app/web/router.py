"""The web UI: server-rendered pages over the same services as the API.

Wire it into the app with `app.include_router(web_router)`; the static files are
served from memory by a route here, so no mount is needed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.errors import NotFound
from app.web import owner, trash, visitor
from app.web.pages import ASSETS

router = APIRouter(include_in_schema=False)
router.include_router(visitor.router)
router.include_router(visitor.oembed_router)
router.include_router(owner.router)
router.include_router(trash.router)


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
async def static_file(name: str, request: Request) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        raise NotFound("No such file.")
    etag = f'"{asset.version}"'
    # The pages link `?v=<hash>`: that exact content never changes, so cache it for a year.
    versioned = request.query_params.get("v") == asset.version
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(asset.body))
        return Response(media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
