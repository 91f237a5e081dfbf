"""The owner's browser session and the CSRF tokens of the web pages.

Session: an HS256 JWT in an HttpOnly, SameSite=Lax cookie, signed with a key
derived from JWT_SECRET_KEY for this one purpose, so a session cookie is never
accepted as an API Bearer token and an API token is never a session. It carries
a random session id and the owner's token version: "sign out everywhere"
(`POST /api/v1/auth/logout`, or the box on the web logout page) ends every
session as it ends every API token, and so does changing the JWT key. Nothing
else is stored, so it works the same behind a load balancer of processes.

CSRF: signed double-submit. A random seed lives in its own HttpOnly cookie; the
token put in forms is HMAC(key, seed + session id). A cross-site page can
neither read the seed nor compute the HMAC, and a token taken before login stops
working after it (the seed is replaced at login and logout).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from starlette.requests import Request
from starlette.responses import Response

from app.auth import repository
from app.auth.bootstrap import AuthSecrets
from app.config import Settings

SESSION_COOKIE = "reactbin_session"
CSRF_COOKIE = "reactbin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# An owner curating a library should not log in every hour (JWT_EXPIRE_MINUTES is
# for API tokens); a week, and logout ends it sooner.
SESSION_LIFETIME = timedelta(days=7)
ALGORITHM = "HS256"
MAX_COOKIE_LENGTH = 2048


def _derive(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class WebSession:
    """What a page knows about its visitor: the owner's name (None for a visitor),
    the session id, and the CSRF seed (`new_seed` when it still has to be set)."""

    owner: str | None
    session_id: str
    csrf_seed: str
    new_seed: bool
    secure: bool
    csrf_key: bytes

    @property
    def is_owner(self) -> bool:
        return self.owner is not None

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.csrf_key, self.csrf_seed, self.session_id)

    def check_csrf(self, submitted: str | None) -> bool:
        # A seed we only just made was never sent to the client: nothing can match it.
        if self.new_seed or not submitted or len(submitted) > 128:
            return False
        return hmac.compare_digest(submitted, self.csrf_token)


def csrf_token_for(key: bytes, seed: str, session_id: str) -> str:
    return _b64(hmac.new(key, f"{seed}:{session_id}".encode(), hashlib.sha256).digest())


class SessionSigner:
    def __init__(self, auth: AuthSecrets) -> None:
        self._key = _derive(auth.jwt_secret, b"reactbin-web-session-v1")
        self.csrf_key = _derive(auth.jwt_secret, b"reactbin-web-csrf-v1")
        self._owner = auth.owner_username

    def issue(self, version: int) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": self._owner,
            "sid": secrets.token_urlsafe(16),
            "ver": version,
            "iat": now,
            "exp": now + SESSION_LIFETIME,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str | None) -> tuple[str, int] | None:
        """(session id, token version) of a well-signed, unexpired session, else None."""
        if not token or len(token) > MAX_COOKIE_LENGTH:
            return None
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "sid", "ver"]},
            )
        except jwt.PyJWTError:
            return None
        session_id, version = claims["sid"], claims["ver"]
        if claims["sub"] != self._owner or not isinstance(session_id, str):
            return None
        return (session_id, version) if isinstance(version, int) else None


def is_secure(request: Request, settings: Settings) -> bool:
    """Secure cookies over https, also behind a TLS proxy that the base URL reveals."""
    return request.url.scheme == "https" or settings.api_base_url.startswith("https://")


async def read_session(
    request: Request, settings: Settings, auth: AuthSecrets, signer: SessionSigner
) -> WebSession:
    seed = request.cookies.get(CSRF_COOKIE, "")
    new_seed = not (16 <= len(seed) <= 64)
    if new_seed:
        seed = secrets.token_urlsafe(24)
    owner: str | None = None
    session_id = ""
    if settings.auth_provider == "noop":
        owner, session_id = auth.owner_username, "noop"
    elif (found := signer.verify(request.cookies.get(SESSION_COOKIE))) is not None:
        # Only a validly signed cookie costs a query; visitors never touch the database here.
        async with request.app.state.sessionmaker() as db:
            current = await repository.token_version(db, auth.owner_username)
        if found[1] == current:
            owner, session_id = auth.owner_username, found[0]
    return WebSession(
        owner=owner,
        session_id=session_id,
        csrf_seed=seed,
        new_seed=new_seed,
        secure=is_secure(request, settings),
        csrf_key=signer.csrf_key,
    )


def set_csrf_cookie(response: Response, seed: str, *, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=secure, path="/")


def start_session(response: Response, signer: SessionSigner, *, version: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        signer.issue(version),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    # A fresh seed: a token obtained before login is useless after it.
    set_csrf_cookie(response, secrets.token_urlsafe(24), secure=secure)


def end_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
    set_csrf_cookie(response, secrets.token_urlsafe(24), secure=secure)
