from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth import repository
from app.auth.bootstrap import AuthSecrets
from app.auth.security import InvalidToken, decode_access_token
from app.config import Settings
from app.errors import Unauthorized

# auto_error=False: we answer 401 ourselves, with one message for every failure.
# The token is read from the Authorization header only, never the query string.
bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

MAX_TOKEN_LENGTH = 4096


# `async def`: a plain `def` dependency would run in a worker thread (see
# app/dependencies.py).
def client_address(request: Request) -> str:
    """Who is logging in, for the failed-login limit and the log."""
    return request.client.host if request.client else "unknown"


async def get_auth_secrets(request: Request) -> AuthSecrets:
    secrets: AuthSecrets = request.app.state.auth_secrets
    return secrets


async def require_owner(
    request: Request,
    token: Annotated[str | None, Depends(bearer)],
    secrets: Annotated[AuthSecrets, Depends(get_auth_secrets)],
) -> str:
    """The owner's username, or 401 with `WWW-Authenticate: Bearer`."""
    settings: Settings = request.app.state.settings
    if settings.auth_provider == "noop":
        return secrets.owner_username
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("Not authenticated.")
    try:
        claims = decode_access_token(token, secret=secrets.jwt_secret)
    except InvalidToken:
        raise Unauthorized("Invalid or expired token.") from None
    if claims.subject != secrets.owner_username:
        raise Unauthorized("Invalid or expired token.")
    async with request.app.state.sessionmaker() as session:
        current = await repository.token_version(session, claims.subject)
    if claims.version != current:
        raise Unauthorized("This token was signed out.")
    return claims.subject


Owner = Annotated[str, Depends(require_owner)]
