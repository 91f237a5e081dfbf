"""The app's own log lines: the request id on each, no password or token in any."""

from __future__ import annotations

import json

import httpx
import pytest

from app.config import Settings
from tests.integration.helpers import State, create_image


def _events(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


async def test_request_lines_carry_the_id_and_no_secret(
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    settings: Settings,
    state: State,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert settings.owner_password is not None
    password = settings.owner_password.get_secret_value()
    capsys.readouterr()
    wrong = await client.post(
        "/api/v1/auth/token",
        data={"username": "owner", "password": "a-wrong-password-123"},
        headers={"X-Request-ID": "login-wrong-1"},
    )
    assert wrong.status_code == 401
    login = await client.post(
        "/api/v1/auth/token",
        data={"username": settings.owner_username, "password": password},
        headers={"X-Request-ID": "login-ok-1"},
    )
    token = login.json()["access_token"]
    image = await create_image(authed_client, title="logged upload")
    authed = authed_client.headers["Authorization"].removeprefix("Bearer ")
    err = capsys.readouterr().err

    events = {str(e["event"]): e for e in _events(err)}
    assert events["auth.login_failed"]["request_id"] == "login-wrong-1"
    assert events["auth.login"]["request_id"] == "login-ok-1"
    uploaded = events["image.uploaded"]
    assert uploaded["image_id"] == image["id"]
    assert len(str(uploaded["request_id"])) == 32  # generated when the client sends none
    for secret in (password, "a-wrong-password-123", token, authed, authed.split(".")[-1]):
        assert secret not in err
