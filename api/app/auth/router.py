from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import repository
from app.auth.bootstrap import AuthSecrets
from app.auth.dependencies import Owner, client_address, get_auth_secrets
from app.auth.schemas import Me, Token
from app.auth.security import create_access_token
from app.auth.service import authenticate
from app.dependencies import SessionDep, SettingsDep
from app.openapi import responses

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
log = structlog.get_logger()


@router.post(
    "/token",
    response_model=Token,
    responses=responses(
        401,
        422,
        429,
        503,
        descriptions={
            401: "Wrong username or password",
            429: "Too many failed logins from this address",
        },
    ),
)
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: SettingsDep,
    secrets: Annotated[AuthSecrets, Depends(get_auth_secrets)],
    session: SessionDep,
) -> Token:
    """OAuth2 password flow: trade the owner's username and password for a Bearer token."""
    version = await authenticate(
        session,
        form.username,
        form.password,
        limiter=request.app.state.login_limiter,
        secrets=secrets,
        client=client_address(request),
    )
    token = create_access_token(
        secrets.owner_username,
        secret=secrets.jwt_secret,
        expire_minutes=settings.jwt_expire_minutes,
        version=version,
    )
    return Token(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


@router.get("/me", response_model=Me, responses=responses(401, 503))
async def me(owner: Owner) -> Me:
    """Who the token belongs to."""
    return Me(username=owner)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(401, 503),
)
async def logout_everywhere(owner: Owner, session: SessionDep) -> Response:
    """Sign out everywhere: every token issued so far stops working."""
    await repository.bump_token_version(session, owner)
    await session.commit()
    log.info("auth.signed_out_everywhere")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
