"""DATABASE_POOLER=transaction on PostgreSQL itself: what the connections leave behind.

Behind a transaction-mode pooler (tests/cluster/test_pooler.py has the real PgBouncer)
a server connection serves other clients between two transactions: nothing of one
client may stay on it. Checked here on one pooled connection, where it would stay.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import rawsql
from app.config import DatabasePooler, Settings
from app.db import create_engine, create_read_sessionmaker, create_sessionmaker
from app.search.repository import typo_corrections

SEARCH_LIKE = text(
    "SELECT count(*) FROM images WHERE created_at > now() - make_interval(days => :d)"
)
RUNS = 8  # over the five custom plans after which PostgreSQL may reuse a generic one


EngineOf = Callable[[DatabasePooler], AsyncEngine]


@pytest.fixture
async def one_connection(settings: Settings, migrated: None) -> AsyncIterator[EngineOf]:
    """An engine of one connection, so every session below is on the same one."""
    engines: list[AsyncEngine] = []

    def make(pooler: DatabasePooler) -> AsyncEngine:
        assert settings.database_url is not None
        engine = create_engine(settings.database_url, pool_size=1, pooler=pooler)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.dispose()


async def _named_statements_after_reads(engine: AsyncEngine, pooler: DatabasePooler) -> int:
    sessions = create_read_sessionmaker(engine, pooler=pooler)
    for days in range(RUNS):
        async with sessions() as session:
            await session.execute(SEARCH_LIKE, {"d": days})  # through the ORM session
            await rawsql.fetch(session, SEARCH_LIKE, {"d": days})  # and the raw read path
            await session.commit()
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(text("SELECT count(*) FROM pg_prepared_statements"))
            ).scalar_one()
        )


@pytest.mark.parametrize(
    ("pooler", "named"), [("none", True), ("session", True), ("transaction", False)]
)
async def test_behind_a_transaction_pooler_no_statement_is_named(
    one_connection: EngineOf, pooler: DatabasePooler, named: bool
) -> None:
    """Named (prepared) statements are what a transaction pooler breaks, and also the only
    ones PostgreSQL may give a generic plan: with none, every search is planned for its
    words, as `plan_cache_mode = force_custom_plan` ensures elsewhere."""
    engine = one_connection(pooler)
    assert (await _named_statements_after_reads(engine, pooler) > 0) is named


@pytest.mark.parametrize("pooler", ["none", "session"])
async def test_without_a_transaction_pooler_generic_plans_are_refused(
    one_connection: EngineOf, pooler: DatabasePooler
) -> None:
    engine = one_connection(pooler)
    async with engine.connect() as connection:
        mode = (await connection.execute(text("SHOW plan_cache_mode"))).scalar_one()
    assert mode == "force_custom_plan"


async def test_the_typo_threshold_stays_in_its_transaction(one_connection: EngineOf) -> None:
    """Read sessions keep their transaction behind a transaction pooler, and the typo
    search's trigram threshold is set for it alone: after it, the connection (another
    client's next) has PostgreSQL's default again."""
    engine = one_connection("transaction")
    letters = secrets.SystemRandom().sample("bcdfghjkmnpqrstvwxz", 5)
    right = "".join(letters)
    typo = right[:2] + right[3] + right[2] + right[4:]  # similarity 0.2: needs 0.15
    threshold = text("SELECT current_setting('pg_trgm.similarity_threshold', true)")
    words = create_sessionmaker(engine)
    async with words() as session:
        await session.execute(text("INSERT INTO search_words (word) VALUES (:w)"), {"w": right})
        await session.commit()
    try:
        async with create_read_sessionmaker(engine, pooler="transaction")() as session:
            assert await typo_corrections(session, typo) == [right]
            assert (await session.execute(threshold)).scalar_one() == "0.15"
            await session.commit()  # a session-wide setting would survive a commit
        async with words() as session:
            assert (await session.execute(threshold)).scalar_one() in (None, "0.3")
    finally:
        async with words() as session:
            await session.execute(text("DELETE FROM search_words WHERE word = :w"), {"w": right})
            await session.commit()
