"""Pages anyone can open: the gallery and search, an image, the tags, oEmbed."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from app.config import Settings
from app.dependencies import CursorDep, SettingsDep
from app.dependencies import SessionDep as DbDep
from app.errors import NotFound, Unprocessable
from app.ids import is_valid_id
from app.images import service
from app.images.schemas import FieldError, normalize_tag
from app.imaging.sizing import fit
from app.imaging.thumbnails import thumbnail_size
from app.pagination import CursorCodec
from app.readcache.store import ResponseCache
from app.renditions.formats import rendition_path
from app.renditions.repository import renditions_for
from app.search import service as search_service
from app.tags import repository as tags_repository
from app.tags.prefix import clean_tag_prefix
from app.web.pages import PageRoute, SessionDep, render
from app.web.views import Card, Detail

router = APIRouter(route_class=PageRoute, include_in_schema=False)
oembed_router = APIRouter(include_in_schema=False)

PAGE_SIZE = 48
CHIP_COUNT = 16
TAGS_PAGE_LIMIT = 500
MAX_QUERY_LENGTH = 500

TagParam = Annotated[list[str], Query(alias="tag", max_length=20)]


def clean_tag_filter(tags: list[str]) -> list[str]:
    try:
        return list(dict.fromkeys(normalize_tag(tag) for tag in tags if tag.strip()))
    except FieldError as exc:
        raise Unprocessable(str(exc)) from None


def gallery_url(q: str, tags: list[str], cursor: str | None = None) -> str:
    params = [("q", q)] if q else []
    params += [("tag", tag) for tag in tags]
    if cursor:
        params.append(("cursor", cursor))
    return "/?" + urlencode(params) if params else "/"


# What a gallery page shows from the library: its cards, the cursor of the next
# page and the tag chips (name, count). A page carries its visitor's session (its
# CSRF token, the owner's controls), so the page is not kept; this is, in the
# response cache beside the JSON answers, emptied with them on every change to
# the library (app/readcache).
GalleryData = tuple[tuple[Card, ...], str | None, tuple[tuple[str, int], ...]]


async def _gallery_data(
    db: DbDep,
    codec: CursorCodec,
    settings: Settings,
    q: str,
    tags: list[str],
    cursor: str | None,
) -> GalleryData:
    images, next_cursor = await search_service.list_images(
        db, codec, tags=tags, limit=PAGE_SIZE, cursor=cursor, query=q or None
    )
    cards = tuple(Card.of(service.to_read(image, settings.api_base_url)) for image in images)
    counts = await tags_repository.tag_counts(db, prefix=None, limit=CHIP_COUNT)
    return cards, next_cursor, tuple(counts)


def _size(data: GalleryData) -> int:
    """Roughly the memory it holds, for the cache's budget."""
    cards, _, counts = data
    return sum(300 + len(c.title) + len(c.alt) for c in cards) + 100 * len(counts)


@router.get("/")
async def gallery(
    request: Request,
    session: SessionDep,
    db: DbDep,
    settings: SettingsDep,
    codec: CursorDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH)] = "",
    tags: TagParam = [],  # noqa: B006  (FastAPI copies defaults; never mutated)
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    q, tags = q.strip(), clean_tag_filter(tags)
    key = urlencode([("q", q), *(("tag", tag) for tag in tags), ("c", cursor or "")]).encode()
    cache: ResponseCache = request.app.state.response_cache
    fresh = "no-cache" in request.headers.get("cache-control", "")
    data: GalleryData | None = None if fresh else await cache.get_data("gallery", key)
    hit = data is not None
    if data is None:
        generation = cache.generation
        data = await _gallery_data(db, codec, settings, q, tags, cursor)
        cache.put_data("gallery", key, data, _size(data), generation)
    cards, next_cursor, counts = data
    chips = [
        {"name": name, "count": count, "url": gallery_url(q, [*tags, name])}
        for name, count in counts
        if name not in tags
    ]
    active = [
        {"name": name, "url": gallery_url(q, [t for t in tags if t != name])} for name in tags
    ]
    page = render(
        request,
        session,
        "gallery.html",
        cards=cards,
        q=q,
        tags=tags,
        chips=chips,
        active_tags=active,
        next_cursor=next_cursor,
        next_url=gallery_url(q, tags, next_cursor) if next_cursor else None,
        paged=cursor is not None,
        deleted="deleted" in request.query_params,
    )
    if cache.live:  # as the JSON routes say it: were the library's data in memory?
        page.headers["X-Cache"] = "HIT" if hit else "MISS"
    return page


@router.get("/i/{image_id}")
async def image_page(
    image_id: str, request: Request, session: SessionDep, db: DbDep, settings: SettingsDep
) -> Response:
    image = service.to_read(await service.get_image(db, image_id), settings.api_base_url)
    detail = Detail.of(image, settings.api_base_url)
    oembed = f"{settings.api_base_url}/oembed?" + urlencode({"url": detail.page_url})
    mp4 = (await renditions_for(db, [image.id])).get(image.id, {}).get("mp4")
    mp4_url = mp4 and settings.api_base_url + rendition_path(image.id, "mp4", mp4.mime_type)
    return render(
        request,
        session,
        "detail.html",
        detail=detail,
        image=image,
        oembed_url=oembed,
        mp4_url=mp4_url,
        notice=_notice(request),
    )


def _notice(request: Request) -> str | None:
    if "saved" in request.query_params:
        return "Saved."
    if "uploaded" in request.query_params:
        return "Uploaded."
    return None


@router.get("/tags")
async def tags_page(
    request: Request,
    session: SessionDep,
    db: DbDep,
    prefix: Annotated[str, Query(max_length=50)] = "",
) -> Response:
    normalized = clean_tag_prefix(prefix) or ""
    rows = await tags_repository.tag_counts(db, prefix=normalized or None, limit=TAGS_PAGE_LIMIT)
    tags = [{"name": name, "count": count, "url": gallery_url("", [name])} for name, count in rows]
    return render(
        request,
        session,
        "tags.html",
        tags=tags,
        prefix=normalized,
        truncated=len(rows) == TAGS_PAGE_LIMIT,
    )


@router.get("/random")
async def random_page(db: DbDep, tags: TagParam = []) -> Response:  # noqa: B006
    image = await service.random_image(db, clean_tag_filter(tags))
    return RedirectResponse(f"/i/{image.id}", status_code=303)


def _image_id_from(url: str, base_url: str) -> str:
    """The id in a page or file URL of this server; NotFound for anything else."""
    parts, base = urlsplit(url), urlsplit(base_url)
    if parts.scheme not in ("http", "https") or parts.netloc != base.netloc:
        raise NotFound("That URL is not an image of this library.")
    path = parts.path
    if path.startswith("/i/"):
        candidate = path[3:].rstrip("/")
    elif path.startswith("/f/"):
        candidate = path[3:].split(".", 1)[0]
    else:
        candidate = ""
    if not is_valid_id(candidate):
        raise NotFound("That URL is not an image of this library.")
    return candidate


@oembed_router.get("/oembed")
async def oembed(
    db: DbDep,
    settings: SettingsDep,
    url: Annotated[str, Query(max_length=2048)],
    format: Annotated[str, Query(max_length=10)] = "json",
    maxwidth: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    maxheight: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """oEmbed 1.0 (https://oembed.com): a `photo` for an image page or file URL."""
    if format != "json":
        return Response(status_code=501)
    image_id = _image_id_from(url, settings.api_base_url)
    image = service.to_read(await service.get_image(db, image_id), settings.api_base_url)
    box = (maxwidth or image.width, maxheight or image.height)
    width, height = fit((image.width, image.height), box)
    thumb_width, thumb_height = thumbnail_size(image.width, image.height)
    body: dict[str, Any] = {
        "version": "1.0",
        "type": "photo",
        "title": image.title,
        "url": image.url,
        "width": width,
        "height": height,
        "provider_name": "reactbin",
        "provider_url": settings.api_base_url + "/",
        "thumbnail_url": image.thumbnail_url,
        "thumbnail_width": thumb_width,
        "thumbnail_height": thumb_height,
        "cache_age": 3600,
    }
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})
