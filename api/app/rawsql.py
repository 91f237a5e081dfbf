"""Read statements run on the request's asyncpg connection, below the ORM session.

The hot read paths (list, search, get) send SQL text built once per shape. Run
through `session.execute`, each request still paid for SQLAlchemy's statement
cache lookup, parameter processing, its cursor and result wrappers and a Row
per record: ~17 % of a search's server CPU in the profile. Here the statement
is compiled once to asyncpg's `$n` form and run with the driver's `fetch` on
the session's connection (the same pool, the same autocommit read
connection), and its prepared statement is cached by asyncpg (none is, behind
a transaction-mode pooler: app/db.py). Driver errors are raised as
SQLAlchemy's, so the outage handlers (503) see them as before.
"""

from __future__ import annotations

from typing import Any, cast

import asyncpg
from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncSession

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_compiled: dict[TextClause, tuple[str, tuple[str, ...]]] = {}


def compiled(statement: TextClause) -> tuple[str, tuple[str, ...]]:
    """The statement as asyncpg SQL, and its parameter names in `$n` order."""
    found = _compiled.get(statement)
    if found is None:
        result = statement.compile(dialect=_DIALECT)
        found = _compiled[statement] = (str(result), tuple(result.positiontup or ()))
    return found


async def fetch(
    session: AsyncSession, statement: TextClause, params: dict[str, Any]
) -> list[asyncpg.Record]:
    sql, names = compiled(statement)
    connection = await session.connection()
    driver = cast(asyncpg.Connection, (await connection.get_raw_connection()).driver_connection)
    try:
        rows: list[asyncpg.Record] = await driver.fetch(sql, *(params[n] for n in names))
    except asyncpg.InterfaceError as exc:
        raise InterfaceError(sql, None, exc, connection_invalidated=driver.is_closed()) from exc
    except asyncpg.PostgresError as exc:
        raise DBAPIError(sql, None, exc, connection_invalidated=driver.is_closed()) from exc
    return rows
