"""Logging in, shared by the API (`/api/v1/auth/token`) and the web form (`/login`)."""

from __future__ import annotations

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.bootstrap import AuthSecrets
from app.auth.ratelimit import LoginRateLimiter
from app.auth.security import check_credentials
from app.errors import TooManyRequests, Unauthorized

log = structlog.get_logger()


async def authenticate(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    limiter: LoginRateLimiter,
    secrets: AuthSecrets,
    client: str,
) -> int:
    """Check `client`'s failed-login limit and the credentials; return the owner's token
    version. Raises TooManyRequests (with Retry-After) or Unauthorized; never logs the
    password."""
    attempt, wait = await limiter.attempt(client)
    if attempt is None:
        raise TooManyRequests(
            f"Too many failed logins; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    valid = await anyio.to_thread.run_sync(
        lambda: check_credentials(
            username,
            password,
            owner_username=secrets.owner_username,
            owner_hash=secrets.owner_password_hash,
        )
    )
    if not valid:  # the attempt's row stays: it counts as a failure
        log.warning("auth.login_failed", client=client, username_length=len(username))
        raise Unauthorized("Incorrect username or password.")
    await limiter.succeeded(attempt)
    log.info("auth.login", client=client)
    return await repository.token_version(session, secrets.owner_username)
