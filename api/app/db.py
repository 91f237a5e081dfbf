"""Engine, sessions and the declarative Base shared by every feature's models."""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session

from app.config import DatabasePooler

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
# A connection back in the pool for less than this is handed out without a ping.
PING_AFTER_IDLE_S = 0.25
_RETURNED_AT = "reactbin_returned_at"


def create_engine(
    url: str, *, pool_size: int = SERVER_POOL_SIZE, pooler: DatabasePooler = "none"
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pool_pre_ping: with asyncpg it is BEGIN; SELECT; ROLLBACK, three round
        # trips before every request (a third of a search's database time).
        # `_ping_if_idle` pings only what may have died: see there.
        pool_timeout=10,
        # The most recently returned connection first: a steady load reuses a few
        # warm connections (no ping, PostgreSQL's per-backend caches hot) instead
        # of cycling through every idle one.
        pool_use_lifo=True,
        connect_args={"timeout": 10, "command_timeout": 30, **_pooler_connect_args(pooler)},
    )
    if pooler == "session":
        event.listen(engine.sync_engine, "connect", _force_custom_plans)
    event.listen(engine.sync_engine.pool, "connect", _returned)
    event.listen(engine.sync_engine.pool, "checkin", _returned)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


# A search's plan depends on how common its word is (read the newest rows, or the
# few matches of a rare word): never reuse a prepared statement's generic plan,
# made without the word.
_PLAN_CACHE_MODE = {"plan_cache_mode": "force_custom_plan"}


def _pooler_connect_args(pooler: DatabasePooler) -> dict[str, Any]:
    if pooler == "none":
        return {"server_settings": _PLAN_CACHE_MODE}
    if pooler == "session":
        # PgBouncer refuses a startup parameter it does not know (plan_cache_mode):
        # `_force_custom_plans` sets it once the connection is made instead.
        return {}
    # Transaction mode: each transaction (each statement, in autocommit) may run on
    # another server connection, shared with other clients, so no statement is
    # named: a named one made on one connection is missing on the next, or another
    # client's of the same name is there. No cache (SQLAlchemy's nor asyncpg's),
    # and the name "" is PostgreSQL's unnamed statement, which asyncpg parses again
    # in the very message batch that runs it (one Sync, which the pooler never
    # splits). An unnamed statement is planned with its parameters every time, so
    # plan_cache_mode is not needed (tests/integration/test_db_pooler.py).
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _unnamed,
    }


def _unnamed() -> str:
    return ""


def _force_custom_plans(dbapi_connection: Any, record: Any) -> None:
    """Behind a session-mode pooler the server connection is this client's for as
    long as it is connected, so a session setting holds, as a startup one would."""
    settings = ", ".join(f"{name} = {value}" for name, value in _PLAN_CACHE_MODE.items())
    dbapi_connection.run_async(lambda driver: driver.execute(f"SET {settings}"))


def _returned(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RETURNED_AT] = time.monotonic()


def _has_input(driver_connection: Any) -> bool:
    """Whether the server sent something on an idle connection: PostgreSQL sends
    nothing unasked except when it is going away (its "terminating connection"
    error, then the close). One non-blocking poll of the socket; if the socket
    cannot be found, assume it did (and ping)."""
    try:
        sock = driver_connection._transport.get_extra_info("socket")
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except Exception:
        return True


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A restarted PostgreSQL leaves dead connections in the pool: replace them so
    the first request after a restart does not fail. pool_pre_ping would ping
    every connection (three round trips with asyncpg); this pings only one that
    asyncpg saw close, that has unread input (a server going away says so before
    it closes, even while the event loop has not run yet), or that sat idle for
    a while. Raising DisconnectionError makes the pool discard it and connect anew."""
    driver_connection = record.driver_connection
    closed = driver_connection.is_closed()
    returned = record.info.get(_RETURNED_AT)
    recent = returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_S
    if not closed and recent and not _has_input(driver_connection):
        return
    try:
        if closed:
            raise ConnectionError("connection closed")
        dbapi_connection.ping()
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


_AFTER_COMMIT = "reactbin_after_commit"


def create_sessionmaker(
    engine: AsyncEngine, *, after_commit: Callable[[], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """`after_commit` runs as each of its sessions commits, before the caller goes
    on: the server clears its response cache there, so a write is never followed
    by a stale read from the same process."""
    info = {_AFTER_COMMIT: after_commit} if after_commit is not None else {}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callback = session.info.get(_AFTER_COMMIT)
    if callback is not None:
        callback()


def create_read_sessionmaker(
    engine: AsyncEngine, *, pooler: DatabasePooler = "none"
) -> async_sessionmaker[AsyncSession]:
    """Sessions without a transaction (autocommit), on the same pool: a read needs
    no BEGIN and COMMIT, two round trips of three or four a search makes. Behind a
    transaction-mode pooler a read keeps its transaction: a setting it makes (the
    typo search's trigram threshold) must stay on its server connection, for it alone."""
    if pooler == "transaction":
        return create_sessionmaker(engine)
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


# What a database that cannot be reached raises: asyncpg a plain OSError when it
# cannot connect at all, SQLAlchemy a DBAPIError on a connection that failed.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (OSError, DBAPIError)


async def ping(engine: AsyncEngine) -> None:
    """One round trip (`SELECT 1`), for the readiness route and the CLI's start-up
    check; raises what the driver raised when PostgreSQL does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def failure_reason(exc: BaseException) -> str:
    """The driver's own words on one line (SQLAlchemy adds the statement and a help link)."""
    reason = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(reason).__name__}: {reason}".splitlines()[0]
