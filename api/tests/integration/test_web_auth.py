"""Web login, logout, the session cookie and CSRF tokens.

The helpers at the top are shared with the other test_web_* modules.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import jwt
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.web.session import _derive
from tests.integration.helpers import State, png_bytes

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def csrf_from(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


async def log_in(client: httpx.AsyncClient, settings: Settings) -> httpx.Response:
    assert settings.owner_password is not None
    response = await client.post(
        "/login",
        data={
            "username": settings.owner_username,
            "password": settings.owner_password.get_secret_value(),
            "csrf_token": await csrf_from(client),
        },
    )
    assert response.status_code == 303, response.text
    return response


def cookie_attributes(response: httpx.Response, name: str) -> dict[str, str]:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            morsel = SimpleCookie(header)[name]
            found = {key: str(value) for key, value in morsel.items() if value}
            return {**found, "value": morsel.value}
    raise AssertionError(f"no {name} cookie was set")


@pytest.fixture
async def owner_web(
    app: FastAPI, state: State, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client logged in through the login form."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await log_in(client, settings)
        yield client


async def test_login_page_sets_an_httponly_csrf_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text
    seed = cookie_attributes(response, "reactbin_csrf")
    assert seed["httponly"] is not None
    assert seed["samesite"].lower() == "lax"
    assert "secure" not in seed
    assert csrf_of(response.text) != seed["value"], "the form token is derived, not the cookie"


async def test_login_sets_a_strict_session_cookie(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await log_in(client, settings)
    assert response.headers["location"] == "/"
    session = cookie_attributes(response, "reactbin_session")
    assert session["httponly"] is not None
    assert session["samesite"].lower() == "lax"
    assert session["path"] == "/"
    assert int(session["max-age"]) > 0
    assert "secure" not in session, "plain http: a Secure cookie would never come back"
    page = await client.get("/")
    assert 'action="/logout"' in page.text
    assert (await client.get("/upload")).status_code == 200


async def test_over_https_the_cookies_are_secure(
    app: FastAPI, state: State, settings: Settings
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        first = await client.get("/login")
        assert cookie_attributes(first, "reactbin_csrf")["secure"] is not None
        response = await log_in(client, settings)
        assert cookie_attributes(response, "reactbin_session")["secure"] is not None


async def test_login_without_csrf_token_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.owner_password is not None
    await client.get("/login")
    credentials = {
        "username": settings.owner_username,
        "password": settings.owner_password.get_secret_value(),
    }
    for extra in ({}, {"csrf_token": ""}, {"csrf_token": "forged"}):
        response = await client.post("/login", data={**credentials, **extra})
        assert response.status_code == 403
        assert "reactbin_session" not in response.headers.get("set-cookie", "")
    assert (await client.get("/upload")).status_code == 303


async def test_csrf_token_only_works_with_its_own_cookie(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.owner_password is not None
    token = await csrf_from(client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        await other.get("/login")
        response = await other.post(
            "/login",
            data={
                "username": settings.owner_username,
                "password": settings.owner_password.get_secret_value(),
                "csrf_token": token,
            },
        )
    assert response.status_code == 403


async def test_cross_site_post_is_refused_even_with_a_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.owner_password is not None
    response = await client.post(
        "/login",
        data={
            "username": settings.owner_username,
            "password": settings.owner_password.get_secret_value(),
            "csrf_token": await csrf_from(client),
        },
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


async def test_wrong_password_shows_the_form_again(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(
        "/login",
        data={
            "username": settings.owner_username,
            "password": "not the password",
            "csrf_token": await csrf_from(client),
        },
    )
    assert response.status_code == 401
    assert "Incorrect username or password." in response.text
    assert "reactbin_session" not in response.headers.get("set-cookie", "")


async def test_failed_logins_are_rate_limited(client: httpx.AsyncClient) -> None:
    token = await csrf_from(client)
    statuses = []
    for _ in range(11):
        response = await client.post(
            "/login", data={"username": "owner", "password": "wrong-guess", "csrf_token": token}
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/tags", "/tags"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ],
)
async def test_login_redirects_only_within_the_site(
    client: httpx.AsyncClient, settings: Settings, target: str, expected: str
) -> None:
    assert settings.owner_password is not None
    response = await client.post(
        "/login",
        data={
            "username": settings.owner_username,
            "password": settings.owner_password.get_secret_value(),
            "csrf_token": await csrf_from(client),
            "next": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == expected


async def test_owner_pages_send_visitors_to_the_login_form(client: httpx.AsyncClient) -> None:
    for path in ("/upload", "/i/AAAAAAAAAA/edit"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"
    page = await client.get("/login?next=/upload")
    assert 'name="next" value="/upload"' in page.text


async def test_logout_needs_the_token_and_ends_the_session(
    owner_web: httpx.AsyncClient,
) -> None:
    assert (await owner_web.post("/logout", data={})).status_code == 403
    assert (await owner_web.get("/upload")).status_code == 200, "still logged in"
    confirm = await owner_web.get("/logout")
    assert confirm.status_code == 200
    response = await owner_web.post("/logout", data={"csrf_token": csrf_of(confirm.text)})
    assert response.status_code == 303
    assert 'reactbin_session=""' in response.headers["set-cookie"]
    assert (await owner_web.get("/upload")).status_code == 303


async def test_the_token_from_before_login_stops_working(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    before = await csrf_from(client)
    await log_in(client, settings)
    response = await client.post("/logout", data={"csrf_token": before})
    assert response.status_code == 403


async def test_session_cookie_and_api_token_are_not_interchangeable(
    owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    session = owner_web.cookies["reactbin_session"]
    me = await owner_web.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {session}"})
    assert me.status_code == 401
    assert (
        await owner_web.post("/api/v1/images", files={"file": ("a.png", png_bytes())})
    ).status_code == 401
    bearer = authed_client.headers["Authorization"].removeprefix("Bearer ")
    response = await authed_client.get(
        "/upload", headers={"Cookie": f"reactbin_session={bearer}", "Authorization": ""}
    )
    assert response.status_code == 303


async def test_a_tampered_or_expired_session_is_ignored(
    app: FastAPI, owner_web: httpx.AsyncClient, client: httpx.AsyncClient, settings: Settings
) -> None:
    session = owner_web.cookies["reactbin_session"]
    valid = await client.get("/upload", headers={"Cookie": f"reactbin_session={session}"})
    assert valid.status_code == 200
    header, payload, signature = session.split(".")
    flipped = "A" if signature[5] != "A" else "B"
    forged = f"{header}.{payload}.{signature[:5]}{flipped}{signature[6:]}"
    key = _derive(app.state.auth_secrets.jwt_secret, b"reactbin-web-session-v1")
    claims = {"sub": settings.owner_username, "sid": "x", "ver": 0, "iat": 1, "exp": 2}
    expired = jwt.encode(claims, key, algorithm="HS256")
    unsigned = jwt.encode({**claims, "exp": 2**40}, None, algorithm="none")
    for cookie in (forged, expired, unsigned, "garbage"):
        response = await client.get("/upload", headers={"Cookie": f"reactbin_session={cookie}"})
        assert response.status_code == 303


async def test_signing_out_everywhere_ends_web_sessions_too(
    owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    assert (await owner_web.get("/upload")).status_code == 200
    assert (await authed_client.post("/api/v1/auth/logout")).status_code == 204
    assert (await owner_web.get("/upload")).status_code == 303


async def test_logout_everywhere_box_ends_api_tokens_too(
    owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await authed_client.get("/api/v1/auth/me")).status_code == 200
    token = await csrf_from(owner_web, "/logout")
    response = await owner_web.post("/logout", data={"csrf_token": token, "everywhere": "1"})
    assert response.status_code == 303
    assert (await authed_client.get("/api/v1/auth/me")).status_code == 401
    await log_in(owner_web, settings)
    assert (await owner_web.get("/upload")).status_code == 200, "a new login works again"
