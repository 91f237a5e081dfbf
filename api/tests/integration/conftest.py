"""Integration fixtures: the app in-process on real PostgreSQL and a real S3 server.

The application is imported inside the fixtures, never at module level, so the
dialect guard below runs before anything can read a database URL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from app.config import Settings
    from tests.integration.helpers import State

REQUIRED_SCHEME = "postgresql+asyncpg://"
BASE_URL = "http://testserver"


def pytest_configure(config: pytest.Config) -> None:
    # The dialect guard. SQLite (or any other dialect) would hide bugs in JSON,
    # full-text search, ON CONFLICT and time zones: refuse to run at all.
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith(REQUIRED_SCHEME):
        pytest.exit(
            f"Integration tests require {REQUIRED_SCHEME} (got {url or 'nothing'!r})", returncode=1
        )
    os.environ["DATABASE_URL"] = url
    # The storage guard: without an endpoint the settings fall back to local disk,
    # and the suite would pass without ever talking to S3.
    if not os.environ.get("S3_ENDPOINT_URL"):
        pytest.exit("Integration tests require S3_ENDPOINT_URL (a real S3 server)", returncode=1)
    backend = os.environ.get("STORAGE_BACKEND") or "s3"
    if backend.lower() != "s3":
        pytest.exit(f"Integration tests require STORAGE_BACKEND=s3 (got {backend!r})", returncode=1)


@pytest.fixture(scope="session")
def upload_tmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="session")
def settings(upload_tmp_dir: Path) -> Settings:
    from app.config import load_settings

    return load_settings().model_copy(
        update={"api_base_url": BASE_URL, "upload_tmp_dir": upload_tmp_dir, "log_format": "json"}
    )


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> None:
    import anyio

    from app import migrate

    assert settings.database_url is not None
    await anyio.to_thread.run_sync(migrate.upgrade, settings.database_url)


async def _running(settings: Settings) -> AsyncIterator[FastAPI]:
    from app.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def app(settings: Settings, migrated: None) -> AsyncIterator[FastAPI]:
    async for running in _running(settings):
        yield running


@pytest.fixture
def make_app(settings: Settings, migrated: None) -> Callable[..., AsyncIterator[FastAPI]]:
    """An extra app with some settings changed (e.g. a tiny upload cap), started and stopped."""

    def factory(**overrides: Any) -> AsyncIterator[FastAPI]:
        return _running(settings.model_copy(update=overrides))

    return factory


@pytest.fixture
async def state(app: FastAPI, upload_tmp_dir: Path) -> State:
    """A clean database and an empty bucket for every test; also what tests inspect."""
    from tests.integration.helpers import State

    helper = State(app.state.sessionmaker, app.state.storage, upload_tmp_dir)
    await helper.wipe()
    return helper


@pytest.fixture
async def client(app: FastAPI, state: State) -> AsyncIterator[httpx.AsyncClient]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as anonymous:
        yield anonymous


@pytest.fixture
async def authed_client(
    app: FastAPI, state: State, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as owner:
        assert settings.owner_password is not None
        response = await owner.post(
            "/api/v1/auth/token",
            data={
                "username": settings.owner_username,
                "password": settings.owner_password.get_secret_value(),
            },
        )
        assert response.status_code == 200, response.text
        owner.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield owner
