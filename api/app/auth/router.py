from __future__ import annotations

from typing import Annotated

import anyio
import structlog
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.bootstrap import AuthSecrets
from app.auth.dependencies import Owner, get_app_settings, get_auth_secrets
from app.auth.ratelimit import LoginRateLimiter
from app.auth.schemas import Me, Token
from app.auth.security import check_credentials, create_access_token
from app.config import Settings
from app.db import get_session
from app.errors import TooManyRequests, Unauthorized

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
log = structlog.get_logger()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/token",
    response_model=Token,
    responses={
        401: {"description": "Wrong username or password"},
        429: {"description": "Too many failed logins"},
    },
)
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: Annotated[Settings, Depends(get_app_settings)],
    secrets: Annotated[AuthSecrets, Depends(get_auth_secrets)],
    session: Annotated[AsyncSession, Depends(get_session)],
) -> Token:
    """OAuth2 password flow: trade the owner's username and password for a Bearer token."""
    limiter: LoginRateLimiter = request.app.state.login_limiter
    client = client_address(request)
    if (wait := limiter.retry_after(client)) is not None:
        raise TooManyRequests(
            "Too many failed logins; try again later.", headers={"Retry-After": str(wait)}
        )
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    valid = await anyio.to_thread.run_sync(
        lambda: check_credentials(
            form.username,
            form.password,
            owner_username=secrets.owner_username,
            owner_hash=secrets.owner_password_hash,
        )
    )
    if not valid:
        limiter.record_failure(client)
        log.warning("auth.login_failed", client=client, username_length=len(form.username))
        raise Unauthorized("Incorrect username or password.")
    version = await repository.token_version(session, secrets.owner_username)
    token = create_access_token(
        secrets.owner_username,
        secret=secrets.jwt_secret,
        expire_minutes=settings.jwt_expire_minutes,
        version=version,
    )
    log.info("auth.login", client=client)
    return Token(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


@router.get("/me", response_model=Me, responses={401: {"description": "Not authenticated"}})
async def me(owner: Owner) -> Me:
    """Who the token belongs to."""
    return Me(username=owner)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: {"description": "Not authenticated"}},
)
async def logout_everywhere(
    owner: Owner, session: Annotated[AsyncSession, Depends(get_session)]
) -> Response:
    """Sign out everywhere: every token issued so far stops working."""
    await repository.bump_token_version(session, owner)
    await session.commit()
    log.info("auth.signed_out_everywhere")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
