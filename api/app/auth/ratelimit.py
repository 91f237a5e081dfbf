"""Failed-login limiter: at most N failures per window per client address, counted in
PostgreSQL so that the limit holds whichever API process answers (table login_failures).

An attempt is counted *before* the password is checked (a row, inserted under a
per-client advisory lock together with the count), and the row is removed again
when the login succeeds: concurrent guesses through several processes cannot slip
past the count between the check and the record. Rows older than the window are
deleted as attempts come, oldest first, so the table holds at most one window.
"""

from __future__ import annotations

import math

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# The lock first, in its own statement: the count must be read with a snapshot taken
# after the lock is granted, so it sees the attempt another process just committed.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('reactbin.login:' || :client))")
# Then forget expired rows, count the client's recent ones and add one if under the limit.
_ATTEMPT = text(
    """
    WITH expired AS (
        DELETE FROM login_failures WHERE failed_at <= now() - make_interval(secs => :window)
    ),
    recent AS (
        SELECT count(*) AS n, min(failed_at) AS oldest FROM login_failures
        WHERE client = :client AND failed_at > now() - make_interval(secs => :window)
    ),
    added AS (
        INSERT INTO login_failures (client)
        SELECT :client FROM recent WHERE recent.n < :max_failures
        RETURNING id
    )
    SELECT (SELECT id FROM added),
        extract(epoch FROM (SELECT oldest FROM recent) + make_interval(secs => :window) - now())
    """
)
_FORGET = text("DELETE FROM login_failures WHERE id = :id")


class LoginRateLimiter:
    def __init__(
        self, engine: AsyncEngine, max_failures: int = 10, window_seconds: float = 60.0
    ) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.window = window_seconds

    async def attempt(self, client: str) -> tuple[int | None, int | None]:
        """(attempt id, None) when the client may try now; (None, seconds to wait) when not.
        Pass the id to `succeeded` if the credentials were right."""
        params = {"client": client, "window": self.window, "max_failures": self.max_failures}
        async with self.engine.begin() as connection:
            await connection.execute(_LOCK, {"client": client})
            attempt_id, remaining = (await connection.execute(_ATTEMPT, params)).one()
        if attempt_id is not None:
            return int(attempt_id), None
        return None, max(1, math.ceil(float(remaining or 1)))

    async def succeeded(self, attempt_id: int) -> None:
        """A successful login is not a failure: its attempt stops counting."""
        async with self.engine.begin() as connection:
            await connection.execute(_FORGET, {"id": attempt_id})
