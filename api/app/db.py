"""Engine, sessions and the declarative Base shared by every feature's models."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

# Constraint names are stable so Alembic autogenerate and `alembic check` never drift.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The server's pool: every request holds a connection while it runs, and a
# connection beyond the pool is opened and closed for one request (a few ms of
# CPU), so the pool covers the concurrency a small server sees.
SERVER_POOL_SIZE = 20


def create_engine(url: str, *, pool_size: int = SERVER_POOL_SIZE) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # A restarted PostgreSQL leaves dead connections in the pool; pre-ping
        # replaces them so the first request after a restart does not fail.
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={
            "timeout": 10,
            "command_timeout": 30,
            "server_settings": {
                # A search's plan depends on how common its word is (read the
                # newest rows, or the few matches of a rare word): never reuse
                # a prepared statement's generic plan, made without the word.
                "plan_cache_mode": "force_custom_plan",
            },
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Request-scoped session: commits when the handler succeeds, rolls back otherwise."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
