"""Which chat-app requests are acted on: each one once, and a bounded number per
workspace a minute, counted across every server process (PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Duplicate, TooManyRequests
from app.integrations.models import IntegrationRequest
from app.integrations.signatures import MAX_AGE_SECONDS

# Kept a little longer than a signed request stays valid: a replay inside the
# window still finds its key.
KEEP_SECONDS = 2 * MAX_AGE_SECONDS
WINDOW_SECONDS = 60


def _ago(seconds: int) -> ColumnElement[Any]:
    return func.now() - func.make_interval(0, 0, 0, 0, 0, 0, seconds)


async def remember(session: AsyncSession, key: str, workspace: str) -> bool:
    """Records the key; False when it was already there (a replay, or a second Send)."""
    statement = (
        insert(IntegrationRequest)
        .values(key=key, workspace=workspace)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(IntegrationRequest.key)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def admit(session: AsyncSession, key: str, workspace: str, per_minute: int) -> None:
    """Refuses a request seen before (409) or one over the workspace's rate (429).

    Both refusals raise, so the request's transaction rolls back: a refused
    request leaves no row behind and does not count towards the rate."""
    await session.execute(
        delete(IntegrationRequest).where(IntegrationRequest.seen_at < _ago(KEEP_SECONDS))
    )
    if not await remember(session, key, workspace):
        raise Duplicate("This request was already handled.")
    recent = await session.scalar(
        select(func.count())
        .select_from(IntegrationRequest)
        .where(
            IntegrationRequest.workspace == workspace,
            IntegrationRequest.seen_at > _ago(WINDOW_SECONDS),
        )
    )
    if (recent or 0) > per_minute:
        raise TooManyRequests(
            "Too many /reaction requests from this workspace; try again in a minute.",
            headers={"Retry-After": str(WINDOW_SECONDS)},
        )
