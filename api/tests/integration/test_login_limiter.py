"""The failed-login limiter against PostgreSQL (app/auth/ratelimit.py): per client,
atomic under concurrency, forgetting what is older than the window."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from app.auth.ratelimit import LoginRateLimiter
from tests.integration.helpers import State


async def test_the_limit_is_per_client(app: FastAPI, state: State) -> None:
    limiter = LoginRateLimiter(app.state.engine, max_failures=3, window_seconds=60)
    for _ in range(3):
        attempt, wait = await limiter.attempt("1.2.3.4")
        assert attempt is not None
        assert wait is None
    attempt, wait = await limiter.attempt("1.2.3.4")
    assert attempt is None
    assert wait is not None
    assert 1 <= wait <= 60
    assert (await limiter.attempt("5.6.7.8"))[0] is not None
    assert await state.row_count("login_failures") == 4


async def test_concurrent_attempts_never_pass_the_limit(app: FastAPI, state: State) -> None:
    """Guesses in parallel (as through several processes) are counted one by one."""
    limiter = LoginRateLimiter(app.state.engine, max_failures=5, window_seconds=60)
    results = await asyncio.gather(*(limiter.attempt("9.9.9.9") for _ in range(12)))
    assert sum(attempt is not None for attempt, _ in results) == 5
    assert await state.row_count("login_failures") == 5


async def test_a_successful_login_does_not_count(app: FastAPI, state: State) -> None:
    limiter = LoginRateLimiter(app.state.engine, max_failures=2, window_seconds=60)
    for _ in range(5):
        attempt, _ = await limiter.attempt("1.2.3.4")
        assert attempt is not None
        await limiter.succeeded(attempt)
    assert await state.row_count("login_failures") == 0


async def test_old_failures_are_forgotten_and_removed(app: FastAPI, state: State) -> None:
    limiter = LoginRateLimiter(app.state.engine, max_failures=1, window_seconds=0.5)
    assert (await limiter.attempt("1.2.3.4"))[0] is not None
    assert (await limiter.attempt("1.2.3.4"))[0] is None
    await asyncio.sleep(0.7)
    assert (await limiter.attempt("5.6.7.8"))[0] is not None  # and removes the expired row
    assert (await limiter.attempt("1.2.3.4"))[0] is not None
    assert await state.row_count("login_failures") == 2
