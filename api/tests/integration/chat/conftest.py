"""Fixtures of the chat-app tests: one app with every integration on, its
outbound calls pointed at a recording server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from tests.integration.chat.helpers import DiscordKeys, Recorder, recording_server
from tests.integration.conftest import BASE_URL

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.config import Settings
    from tests.integration.helpers import State

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5-test"
MATTERMOST_TOKEN = "xbxdmrd8gjfsmcr3yx1ox6dqbw"


@pytest.fixture(scope="session")
def recorder() -> Iterator[Recorder]:
    with recording_server() as running:
        yield running


@pytest.fixture(scope="session")
def discord_keys() -> DiscordKeys:
    return DiscordKeys()


@pytest.fixture(scope="session")
async def chat_app(
    settings: Settings, migrated: None, recorder: Recorder, discord_keys: DiscordKeys
) -> AsyncIterator[FastAPI]:
    from app.main import create_app

    configured = settings.model_copy(
        update={
            "slack_signing_secret": SecretStr(SLACK_SECRET),
            "slack_response_url_base": recorder.base_url + "/slack/",
            "mattermost_tokens": SecretStr(f"another-command-token, {MATTERMOST_TOKEN}"),
            "discord_public_key": discord_keys.public_hex,
            "discord_api_base_url": recorder.base_url + "/api/v10",
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        yield app


async def forget_requests(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(text("TRUNCATE integration_requests"))
        await session.commit()


@pytest.fixture
async def chat(
    chat_app: FastAPI, state: State, recorder: Recorder
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the chat app, on a clean library, with nothing recorded yet."""
    await forget_requests(chat_app)
    recorder.clear()
    transport = httpx.ASGITransport(app=chat_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def owner(
    chat_app: FastAPI, chat: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """The owner's client of the same app, to upload the library."""
    transport = httpx.ASGITransport(app=chat_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        assert settings.owner_password is not None
        response = await client.post(
            "/api/v1/auth/token",
            data={
                "username": settings.owner_username,
                "password": settings.owner_password.get_secret_value(),
            },
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client


async def share_counts(app: FastAPI) -> dict[str, int]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(text("SELECT id, share_count FROM images"))
        return {row.id: row.share_count for row in rows}


async def remembered(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(text("SELECT count(*) FROM integration_requests")) or 0)
