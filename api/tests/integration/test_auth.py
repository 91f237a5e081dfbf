"""api.md "Auth": tokens, refusals, and the failed-login limit."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from app.config import Settings
from tests.integration.helpers import State, png_bytes, upload


def _password(settings: Settings) -> str:
    assert settings.owner_password is not None
    return settings.owner_password.get_secret_value()


def _secret(settings: Settings) -> str:
    assert settings.jwt_secret_key is not None
    return settings.jwt_secret_key.get_secret_value()


async def test_token_for_the_owner(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={"username": settings.owner_username, "password": _password(settings)},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.jwt_expire_minutes * 60
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json() == {"username": settings.owner_username}


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": settings.owner_username, "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", data={"username": "mallory", "password": _password(settings)}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_login_without_fields_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "owner"})
    assert response.status_code == 422


async def test_too_many_failures_get_429_with_retry_after(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for _ in range(10):
        response = await client.post(
            "/api/v1/auth/token", data={"username": "owner", "password": "guess"}
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/v1/auth/token",
        data={"username": settings.owner_username, "password": _password(settings)},
    )
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 60


async def test_me_without_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def _forge(claims: dict[str, object], header: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def _bad_tokens(settings: Settings) -> dict[str, str]:
    now = datetime.now(UTC)
    valid_claims = {"sub": settings.owner_username, "iat": now, "exp": now + timedelta(minutes=5)}
    good = jwt.encode(valid_claims, _secret(settings), algorithm="HS256")
    head, payload, signature = good.split(".")
    tampered_claims = (
        base64.urlsafe_b64encode(
            json.dumps({"sub": "someone-else", "iat": 1, "exp": 9999999999}).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    epoch = int(now.timestamp())
    return {
        "garbage": "not-a-jwt",
        "empty segments": "..",
        "alg none": _forge(
            {"sub": settings.owner_username, "iat": epoch, "exp": epoch + 300},
            {"alg": "none", "typ": "JWT"},
        ),
        "other algorithm": jwt.encode(valid_claims, _secret(settings), algorithm="HS512"),
        "wrong key": jwt.encode(valid_claims, "x" * 64, algorithm="HS256"),
        "expired": jwt.encode(
            {**valid_claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)},
            _secret(settings),
            algorithm="HS256",
        ),
        "no exp": jwt.encode(
            {"sub": settings.owner_username, "iat": now}, _secret(settings), algorithm="HS256"
        ),
        "not yet valid": jwt.encode(
            {**valid_claims, "nbf": now + timedelta(hours=1)}, _secret(settings), algorithm="HS256"
        ),
        "other subject": jwt.encode(
            {**valid_claims, "sub": "mallory"}, _secret(settings), algorithm="HS256"
        ),
        "tampered payload": f"{head}.{tampered_claims}.{signature}",
        "truncated signature": f"{head}.{payload}.{signature[:10]}",
        "one megabyte": "a" * 1_000_000,
    }


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "empty segments",
        "alg none",
        "other algorithm",
        "wrong key",
        "expired",
        "no exp",
        "not yet valid",
        "other subject",
        "tampered payload",
        "truncated signature",
        "one megabyte",
    ],
)
async def test_bad_tokens_get_401_and_store_nothing(
    client: httpx.AsyncClient, settings: Settings, state: State, case: str
) -> None:
    headers = {"Authorization": f"Bearer {_bad_tokens(settings)[case]}"}
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 401
    assert me.headers["www-authenticate"] == "Bearer"
    client.headers.update(headers)
    refused = await upload(client, png_bytes(1))
    assert refused.status_code == 401
    await state.assert_nothing_stored()


async def test_token_in_query_string_is_ignored(
    authed_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    token = authed_client.headers["Authorization"].removeprefix("Bearer ")
    response = await client.get("/api/v1/auth/me", params={"access_token": token, "token": token})
    assert response.status_code == 401


async def test_non_bearer_scheme_is_401(client: httpx.AsyncClient, settings: Settings) -> None:
    basic = base64.b64encode(f"{settings.owner_username}:{_password(settings)}".encode()).decode()
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 401


async def test_sign_out_everywhere_invalidates_earlier_tokens(
    client: httpx.AsyncClient, authed_client: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await authed_client.get("/api/v1/auth/me")).status_code == 200
    assert (await client.post("/api/v1/auth/logout")).status_code == 401
    assert (await authed_client.post("/api/v1/auth/logout")).status_code == 204
    stale = await authed_client.get("/api/v1/auth/me")
    assert stale.status_code == 401
    assert stale.headers["www-authenticate"] == "Bearer"
    fresh = await client.post(
        "/api/v1/auth/token",
        data={"username": settings.owner_username, "password": _password(settings)},
    )
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    assert me.status_code == 200


async def test_noop_auth_lets_anyone_write_when_explicitly_allowed(make_app, state: State) -> None:  # type: ignore[no-untyped-def]
    async for app in make_app(auth_provider="noop", reactbin_allow_noop_auth=True):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anyone:
            response = await upload(anyone, png_bytes(90))
            assert response.status_code == 201
            assert (await anyone.get("/api/v1/auth/me")).json()["username"] == "owner"


async def test_failed_logins_are_logged_without_the_password(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await client.post(
        "/api/v1/auth/token", data={"username": "owner", "password": "hunter2-very-secret"}
    )
    logged = capsys.readouterr().err
    assert "auth.login_failed" in logged
    assert "hunter2-very-secret" not in logged


async def test_a_huge_password_is_refused_without_hashing(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "owner", "password": "x" * 100_000}
    )
    assert response.status_code in (401, 422)
