"""Tenor v2's routes under `/v2/`, and the same handlers under the paths that
existing clients already call: `/tenor/v2/`, `/klipy/v2/` and `/proxy/klipy/api/v2/`.

Only `/v2/` appears in the OpenAPI description; the aliases are identical.
Headers (CORS, caching) and Google-shaped errors come from `app/tenor/http.py`.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import RedirectResponse
from pydantic_core import to_json

from app.dependencies import CursorDep, SessionDep, SettingsDep
from app.errors import NotFound, ReactbinError
from app.readcache.middleware import cacheable
from app.tenor import service, terms
from app.tenor.http import PREFIXES
from app.tenor.openapi import PAGE_PARAMETERS, google_errors, parameters
from app.tenor.params import (
    parse_ar_range,
    parse_bool,
    parse_ids,
    parse_limit,
    parse_media_filter,
    parse_pos,
    parse_query,
    parse_searchfilter,
)
from app.tenor.schemas import (
    CategoriesPage,
    Empty,
    ResultsPage,
    ResultsPageData,
    TermsPage,
)


class PermissionDenied(ReactbinError):
    status_code = 403


def configured_keys(raw: str) -> list[str]:
    return [key.strip() for key in raw.split(",") if key.strip()]


# Described in the document by app/tenor/openapi.py, as params.py parses them.
Hidden = Annotated[str | None, Query(include_in_schema=False)]


def require_key(settings: SettingsDep, key: Hidden = None) -> None:
    """With TENOR_API_KEYS set, only clients holding one of those keys get answers."""
    allowed = configured_keys(settings.tenor_api_keys)
    if not allowed:
        return
    given = (key or "").encode()
    # Compare with every key, in constant time, so timing tells nothing about them.
    matches = [hmac.compare_digest(given, candidate.encode()) for candidate in allowed]
    if not any(matches):
        raise PermissionDenied("The request is missing a valid API key.")


def page_request(
    q: Hidden = None,
    limit: Hidden = None,
    pos: Hidden = None,
    media_filter: Hidden = None,
    ar_range: Hidden = None,
    random: Hidden = None,
    searchfilter: Hidden = None,
    contentfilter: Hidden = None,
    locale: Hidden = None,
    country: Hidden = None,
    client_key: Hidden = None,
) -> service.PageRequest:
    return service.PageRequest(
        query=parse_query(q),
        limit=parse_limit(limit),
        pos=parse_pos(pos),
        wanted=parse_media_filter(media_filter),
        aspect=parse_ar_range(ar_range),
        motion=parse_searchfilter(searchfilter),
        random=parse_bool(random, "random"),
    )


PageRequestDep = Annotated[service.PageRequest, Depends(page_request)]


def _json(page: ResultsPageData, *, random: bool = False) -> Response:
    """Serialised once, without a second validation (see schemas.py)."""
    response = Response(to_json(page), media_type="application/json")
    if random:  # another order next time: no cache may keep it
        response.headers["Cache-Control"] = "no-store"
    return response


@cacheable
async def search(
    request: PageRequestDep, session: SessionDep, settings: SettingsDep, codec: CursorDep
) -> Response:
    """Results for `q` by relevance (as the gallery's search); without `q`, the featured list."""
    return _json(
        await service.list_page(session, codec, settings.api_base_url, request),
        random=request.random,
    )


@cacheable
async def featured(
    request: PageRequestDep, session: SessionDep, settings: SettingsDep, codec: CursorDep
) -> Response:
    """The most shared images (`registershare`), newest first among equals."""
    unsearched = replace(request, query="")
    return _json(
        await service.list_page(session, codec, settings.api_base_url, unsearched),
        random=unsearched.random,
    )


@cacheable
async def posts(
    session: SessionDep,
    settings: SettingsDep,
    ids: Hidden = None,
    media_filter: Hidden = None,
) -> Response:
    """The results with these ids, in the order given; unknown ids are left out."""
    wanted = parse_media_filter(media_filter)
    return _json(await service.posts(session, settings.api_base_url, parse_ids(ids), wanted))


@cacheable
async def categories(
    session: SessionDep, settings: SettingsDep, limit: Hidden = None
) -> CategoriesPage:
    """The most used tags, each with the small animated file of its newest image."""
    return await terms.categories(session, settings.api_base_url, parse_limit(limit))


@cacheable
async def autocomplete(session: SessionDep, q: Hidden = None, limit: Hidden = None) -> TermsPage:
    """Tags (then other words of the library) that start with `q`."""
    return await terms.autocomplete(session, parse_query(q), parse_limit(limit))


@cacheable
async def search_suggestions(
    session: SessionDep, codec: CursorDep, q: Hidden = None, limit: Hidden = None
) -> TermsPage:
    """Terms related to `q`: the tags and titles of its best matches."""
    return await terms.search_suggestions(session, codec, parse_query(q), parse_limit(limit))


@cacheable
async def trending_terms(session: SessionDep, limit: Hidden = None) -> TermsPage:
    """The most used tags."""
    return await terms.trending_terms(session, parse_limit(limit))


async def registershare(
    response: Response,
    session: SessionDep,
    id: Hidden = None,
) -> Empty:
    """Counts one share of the result (orders `featured`)."""
    await service.register_share(session, (id or "").strip())
    response.headers["Cache-Control"] = "no-store"
    return Empty()


def _routes(prefix: str) -> APIRouter:
    in_schema = prefix == "/v2"
    router = APIRouter(
        prefix=prefix,
        tags=["tenor v2"],
        include_in_schema=in_schema,
        dependencies=[Depends(require_key)],
        responses=google_errors(400, 403, 503),
    )
    pages: list[tuple[str, Any, Any, tuple[str, ...]]] = [
        ("search", search, ResultsPage, PAGE_PARAMETERS),
        ("featured", featured, ResultsPage, PAGE_PARAMETERS),
        ("posts", posts, ResultsPage, ("ids", "media_filter")),
        ("categories", categories, CategoriesPage, ("limit",)),
        ("autocomplete", autocomplete, TermsPage, ("q", "limit")),
        ("search_suggestions", search_suggestions, TermsPage, ("q", "limit")),
        ("trending_terms", trending_terms, TermsPage, ("limit",)),
    ]
    for name, endpoint, model, names in pages:
        router.add_api_route(
            f"/{name}",
            endpoint,
            methods=["GET"],
            response_model=model,
            openapi_extra=parameters(*names),
        )
    for method in ("GET", "POST"):  # Tenor documents GET; some clients POST
        router.add_api_route(
            "/registershare",
            registershare,
            methods=[method],
            response_model=Empty,
            operation_id=f"registershare_{method.lower()}",
            responses=google_errors(404),
            openapi_extra=parameters("id"),
        )
    return router


# Commet fetches every file through its proxy's media path:
# https://<proxy>/proxy/klipy/media<path of the file's URL>. Those paths lead
# back to the files themselves; nothing else is reachable through them.
_MEDIA_PATHS = re.compile(
    r"^(f/[A-Za-z0-9]+(\.[a-z0-9]+|/[a-z]+\.[a-z0-9]+)|api/v1/images/[A-Za-z0-9]+/thumbnail)$"
)


async def klipy_media(path: str, settings: SettingsDep) -> RedirectResponse:
    if not _MEDIA_PATHS.match(path):
        raise NotFound("No file at that path.")
    return RedirectResponse(f"{settings.api_base_url}/{path}", status_code=308)


router = APIRouter()
for _prefix in PREFIXES:
    router.include_router(_routes(_prefix))
router.add_api_route(
    "/proxy/klipy/media/{path:path}", klipy_media, methods=["GET", "HEAD"], include_in_schema=False
)
