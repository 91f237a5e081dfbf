"""Rendering: the Jinja2 environment, the page headers (a strict CSP), the static
files, and a route class that turns errors into HTML pages."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from app.auth.bootstrap import AuthSecrets
from app.auth.dependencies import get_auth_secrets
from app.config import Settings
from app.dependencies import get_app_settings
from app.errors import ReactbinError
from app.imaging.thumbnails import thumbnail_size
from app.web.session import SessionSigner, WebSession, read_session, set_csrf_cookie

HERE = Path(__file__).parent

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    # Every {{ value }} is HTML-escaped: a title `<script>` is shown as text.
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    version: str


def _load_assets() -> dict[str, Asset]:
    types = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
    types[".svg"] = "image/svg+xml"
    assets = {}
    for path in sorted((HERE / "static").iterdir()):
        if path.suffix in types:
            body = path.read_bytes()
            version = hashlib.sha256(body).hexdigest()[:12]
            assets[path.name] = Asset(body, types[path.suffix], version)
    return assets


ASSETS = _load_assets()


def static_url(name: str) -> str:
    """A URL that changes when the file does, so browsers may cache it forever."""
    return f"/static/{name}?v={ASSETS[name].version}"


env.globals["static_url"] = static_url
env.globals["thumbnail_size"] = thumbnail_size
env.filters["urlquote"] = lambda value: quote(str(value), safe="")


def content_security_policy(settings: Settings) -> str:
    img_sources = ["'self'", "data:", "blob:"]
    base = urlsplit(settings.api_base_url)
    img_sources.append(f"{base.scheme}://{base.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src {' '.join(img_sources)}",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def page_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        # Pages carry CSRF tokens and owner controls: never in a shared cache.
        "Cache-Control": "private, no-cache",
        "Vary": "Cookie",
    }


async def get_web_session(
    request: Request,
    settings: Annotated[Settings, Depends(get_app_settings)],
    auth: Annotated[AuthSecrets, Depends(get_auth_secrets)],
) -> WebSession:
    return await read_session(request, settings, auth, SessionSigner(auth))


SessionDep = Annotated[WebSession, Depends(get_web_session)]


def finish(response: Response, session: WebSession, settings: Settings) -> Response:
    """Security headers, and the CSRF seed cookie on the first visit."""
    response.headers.update(page_headers(settings))
    if session.new_seed:
        set_csrf_cookie(response, session.csrf_seed, secure=session.secure)
    return response


def render(
    request: Request,
    session: WebSession,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    settings: Settings = request.app.state.settings
    context.setdefault("q", "")
    html = env.get_template(template).render(
        session=session, request_path=request.url.path, **context
    )
    return finish(HTMLResponse(html, status_code=status_code), session, settings)


def wants_json(request: Request) -> bool:
    return request.headers.get("accept", "").startswith("application/json")


class LoginRequired(Exception):
    """An owner page was asked for without a session."""


class CsrfRefused(ReactbinError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from this site. Reload the page and try again."
        )


async def _error_page(
    request: Request, status_code: int, message: str, extra: dict[str, Any]
) -> Response:
    settings: Settings = request.app.state.settings
    auth: AuthSecrets = request.app.state.auth_secrets
    if wants_json(request):
        return JSONResponse({"detail": message, **extra}, status_code=status_code)
    session = await read_session(request, settings, auth, SessionSigner(auth))
    titles = {403: "Refused", 404: "Not found", 422: "Invalid request", 429: "Slow down"}
    title = titles.get(status_code, "Something went wrong")
    return render(request, session, "error.html", status_code, title=title, message=message)


class PageRoute(APIRoute):
    """Errors on a page are answered with a page (or JSON for `Accept: application/json`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                if wants_json(request):
                    return JSONResponse({"detail": "Log in first."}, status_code=401)
                target = request.url.path
                return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
            except ReactbinError as exc:
                response = await _error_page(request, exc.status_code, exc.message, exc.extra)
                response.headers.update(exc.headers or {})
                return response
            except RequestValidationError:
                return await _error_page(request, 422, "The address has an invalid parameter.", {})

        return page_handler


def require_owner(session: SessionDep) -> WebSession:
    if not session.is_owner:
        raise LoginRequired
    return session


OwnerDep = Annotated[WebSession, Depends(require_owner)]
