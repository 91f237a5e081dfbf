"""Faults injected into the real services while the app runs (issue 3, "Consistency
under faults"): S3 stopped, hung or failing part-way through an upload; PostgreSQL
stopped and restarted; `/readyz` following both. The promises checked are the
user's: a clear 503 (never a 500, never a hang), nothing half-stored, and the app
working again by itself once the service is back.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import aclosing, asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from fastapi import FastAPI

from app import consistency
from app.config import Settings
from tests.faults import FaultProxy, OwnS3, PgCluster
from tests.integration.helpers import State, png_bytes, upload

BASE_URL = "http://testserver"
STORAGE_TIMEOUT = 2.0  # seconds per storage call in the apps these tests start
AppFactory = Callable[..., AsyncGenerator[FastAPI, None]]


@asynccontextmanager
async def owner_client(app: FastAPI, authed: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` carrying the owner's token (the apps share the JWT secret)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers=dict(authed.headers)
    ) as client:
        yield client


@asynccontextmanager
async def running(make_app: AppFactory, **overrides: Any) -> AsyncIterator[FastAPI]:
    """An app with `overrides`, stopped on the way out even when the test fails."""
    async with aclosing(make_app(**overrides)) as apps:
        async for app in apps:
            yield app


def _host_port(url: str | None) -> tuple[str, int]:
    parts = urlsplit(url or "")
    assert parts.hostname, f"no host in {url!r}"
    assert parts.port, f"no port in {url!r}"
    return parts.hostname, parts.port


@pytest.fixture
def s3_proxy(settings: Settings) -> Iterator[FaultProxy]:
    """A proxy in front of the shared S3 server (same bucket, so `state` sees the truth)."""
    proxy = FaultProxy(*_host_port(settings.s3_endpoint_url)).start()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
async def proxied(
    make_app: AppFactory, s3_proxy: FaultProxy, state: State
) -> AsyncIterator[FastAPI]:
    async with running(
        make_app, s3_endpoint_url=s3_proxy.url, storage_timeout_seconds=STORAGE_TIMEOUT
    ) as app:
        yield app


@pytest.fixture
def own_s3(settings: Settings) -> Iterator[OwnS3]:
    weed = os.environ.get("REACTBIN_TEST_WEED")
    assert weed, "REACTBIN_TEST_WEED is not set (run the tests through `make test`)"
    assert settings.s3_access_key_id
    assert settings.s3_secret_access_key
    server = OwnS3(
        weed,
        settings.s3_access_key_id,
        settings.s3_secret_access_key.get_secret_value(),
        settings.s3_region,
    )
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def pg() -> Iterator[PgCluster]:
    """The shared cluster, running again after the test whatever happened in it."""
    cluster = PgCluster()
    assert cluster.running(), "the test PostgreSQL cluster is not running"
    try:
        yield cluster
    finally:
        cluster.ensure_running()


# --------------------------------------------------------------------------- S3


async def test_upload_while_s3_is_stopped_is_a_503_and_works_once_s3_is_back(
    make_app: AppFactory, own_s3: OwnS3, authed_client: httpx.AsyncClient, state: State
) -> None:
    async with (
        running(
            make_app,
            s3_endpoint_url=own_s3.url,
            s3_bucket_name=own_s3.bucket,
            storage_timeout_seconds=STORAGE_TIMEOUT,
        ) as app,
        owner_client(app, authed_client) as owner,
    ):
        own_s3.kill()
        started = time.monotonic()
        refused = await upload(owner, png_bytes(1), title="during the outage")
        elapsed = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        assert refused.json()["detail"] == "Storage is unavailable; the upload was not saved."
        assert elapsed < 1.5 * STORAGE_TIMEOUT + 1, f"a stopped S3 held the upload {elapsed:.1f}s"
        assert await state.row_count("images") == 0
        assert state.temp_files() == []
        listing = await owner.get("/api/v1/images")
        assert listing.status_code == 200
        assert listing.json()["items"] == []

        own_s3.start()
        data = png_bytes(2)
        created = await upload(owner, data, title="after the outage")
        assert created.status_code == 201, created.text
        image = created.json()
        download = await owner.get(f"/api/v1/images/{image['id']}/file")
        assert download.status_code == 200
        assert download.content == data
        assert (await owner.get(f"/api/v1/images/{image['id']}/thumbnail")).status_code == 200
        assert state.temp_files() == []
        # Leave no row behind that points into this throwaway bucket.
        assert (await owner.delete(f"/api/v1/images/{image['id']}")).status_code == 204


async def test_upload_to_an_s3_that_never_answers_fails_within_the_timeout(
    proxied: FastAPI, s3_proxy: FaultProxy, authed_client: httpx.AsyncClient, state: State
) -> None:
    async with owner_client(proxied, authed_client) as owner:
        assert (await upload(owner, png_bytes(3))).status_code == 201  # pooled connections open
        await state.wipe()
        s3_proxy.blackhole()
        started = time.monotonic()
        response = await upload(owner, png_bytes(4))
        elapsed = time.monotonic() - started
    assert response.status_code in (503, 504), response.text
    assert "Storage" in response.json()["detail"]
    # The bound is 30 s with the default STORAGE_TIMEOUT_SECONDS=20, that is
    # one and a half storage timeouts for the whole request.
    assert elapsed < 1.5 * STORAGE_TIMEOUT + 1, f"a hung S3 held the upload for {elapsed:.1f}s"
    assert s3_proxy.connections >= 1
    s3_proxy.resume()
    await state.assert_nothing_stored()


async def test_s3_failing_after_the_original_was_written_leaves_nothing_behind(
    proxied: FastAPI,
    s3_proxy: FaultProxy,
    authed_client: httpx.AsyncClient,
    state: State,
    settings: Settings,
) -> None:
    # The original goes through; every later PUT (the thumbnail, and its retry) is cut.
    s3_proxy.cut_at(f"PUT /{settings.s3_bucket_name}/images/".encode(), passes=1)
    async with owner_client(proxied, authed_client) as owner:
        response = await upload(owner, png_bytes(5), tags="cut")
        assert response.status_code == 503, response.text
        assert response.json()["detail"] == "Storage is unavailable; the upload was not saved."
        assert s3_proxy.marker_hits >= 2, "the thumbnail PUT was never attempted"
        await state.assert_nothing_stored()  # the original written before the cut was deleted
        s3_proxy.resume()
        assert (await upload(owner, png_bytes(5), tags="cut")).status_code == 201


async def test_s3_gone_after_the_original_was_written_leaves_an_orphan_that_check_repairs(
    proxied: FastAPI,
    s3_proxy: FaultProxy,
    authed_client: httpx.AsyncClient,
    state: State,
    settings: Settings,
    app: FastAPI,
) -> None:
    # One object goes through, then every request for an image object is cut: the
    # other PUT and the clean-up's DELETEs (and their retries) all fail. The original
    # and the thumbnail are written concurrently, so either may be the one stored;
    # the connection already carrying it is left alone (refusing S3 outright would
    # abort it mid-flight, leaving nothing or something depending on timing).
    s3_proxy.cut_at(f"/{settings.s3_bucket_name}/images/".encode(), passes=1)
    async with owner_client(proxied, authed_client) as owner:
        response = await upload(owner, png_bytes(6))
    assert response.status_code == 503, response.text
    assert await state.row_count("images") == 0
    assert state.temp_files() == []
    leftovers = await state.object_keys()
    assert len(leftovers) == 1, leftovers
    assert leftovers[0].endswith(("/original.png", "/thumbnail.webp")), leftovers

    sessionmaker, storage = app.state.sessionmaker, app.state.storage
    report = await consistency.check(sessionmaker, storage, grace=timedelta(0))
    assert report.orphans == leftovers
    assert report.missing_originals == report.missing_thumbnails == []
    assert not report.consistent
    repaired = await consistency.check(sessionmaker, storage, repair=True, grace=timedelta(0))
    assert repaired.repaired == leftovers
    assert repaired.consistent
    assert await state.object_keys() == []
    assert (await consistency.check(sessionmaker, storage, grace=timedelta(0))).consistent


async def test_readyz_names_storage_while_s3_is_unreachable(
    proxied: FastAPI, s3_proxy: FaultProxy
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=proxied), base_url=BASE_URL
    ) as anonymous:
        ready = await anonymous.get("/readyz")
        assert ready.status_code == 200, ready.text

        s3_proxy.refuse()
        down = await anonymous.get("/readyz")
        assert down.status_code == 503
        assert down.json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "storage": "unavailable"},
        }
        assert (await anonymous.get("/healthz")).status_code == 200

        s3_proxy.resume()
        assert (await anonymous.get("/readyz")).status_code == 200

        s3_proxy.blackhole()  # answers nothing: readyz must not hang with it
        started = time.monotonic()
        hung = await anonymous.get("/readyz")
        assert hung.status_code == 503
        assert hung.json()["checks"] == {"database": "ok", "storage": "unavailable"}
        assert time.monotonic() - started < 5
        assert (await anonymous.get("/healthz")).status_code == 200

        s3_proxy.resume()
        assert (await anonymous.get("/readyz")).status_code == 200


# --------------------------------------------------------------------------- PostgreSQL


async def test_readyz_names_database_while_postgresql_is_stopped(
    pg: PgCluster, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/readyz")).status_code == 200
    pg.stop()
    try:
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json() == {
            "status": "unavailable",
            "checks": {"database": "unavailable", "storage": "ok"},
        }
        assert (await client.get("/healthz")).json() == {"status": "ok"}
    finally:
        pg.start()
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert (await client.get("/healthz")).status_code == 200


async def test_requests_during_a_postgresql_outage_get_503_then_the_pool_recovers(
    pg: PgCluster,
    client: httpx.AsyncClient,
    authed_client: httpx.AsyncClient,
    settings: Settings,
    state: State,
) -> None:
    kept = (await upload(authed_client, png_bytes(7), tags="kept")).json()
    assert settings.owner_password is not None
    login = {
        "username": settings.owner_username,
        "password": settings.owner_password.get_secret_value(),
    }
    pg.stop()
    try:
        outage = {
            "list": await client.get("/api/v1/images"),
            "get": await client.get(f"/api/v1/images/{kept['id']}"),
            "file": await client.get(kept["url"]),
            "tags": await client.get("/api/v1/tags"),
            "search": await client.get("/api/v1/images", params={"q": "kept"}),
            "upload": await upload(authed_client, png_bytes(8)),
            "edit": await authed_client.patch(
                f"/api/v1/images/{kept['id']}", json={"title": "renamed"}
            ),
            "delete": await authed_client.delete(f"/api/v1/images/{kept['id']}"),
            "login": await client.post("/api/v1/auth/token", data=login),
        }
        statuses = {name: response.status_code for name, response in outage.items()}
        assert statuses == dict.fromkeys(outage, 503), {
            name: (r.status_code, r.text[:120]) for name, r in outage.items()
        }
        for response in outage.values():
            assert "database" in response.json()["detail"].lower(), response.text
        assert (await client.get("/healthz")).status_code == 200
    finally:
        pg.start()

    # The same app, not restarted: the very first request after the restart works.
    listed = await client.get("/api/v1/images")
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [kept["id"]]
    got = await client.get(f"/api/v1/images/{kept['id']}")
    assert got.json()["title"] == kept["title"]  # the edit during the outage did not happen
    assert state.temp_files() == []
    assert (await upload(authed_client, png_bytes(8))).status_code == 201
    assert (await authed_client.delete(f"/api/v1/images/{kept['id']}")).status_code == 204
    assert await state.row_count("images") == 1


async def test_postgresql_restart_between_requests_goes_unnoticed(
    pg: PgCluster, client: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    # Fill the pool with connections, then restart the server under them.
    for seed in range(5):
        assert (await upload(authed_client, png_bytes(100 + seed))).status_code == 201
    pg.stop()
    pg.start()
    responses = [await client.get("/api/v1/images") for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5, responses[0].text
    assert len(responses[0].json()["items"]) == 5
    assert (await upload(authed_client, png_bytes(200))).status_code == 201


async def test_an_upload_in_flight_across_a_postgresql_restart_is_saved(
    pg: PgCluster, authed_client: httpx.AsyncClient, state: State
) -> None:
    data = png_bytes(10, size=(300, 200))
    form = httpx.Request("POST", BASE_URL, files={"file": ("across.png", data)}, data={"tags": "x"})
    body = form.read()
    restarted = False

    async def restart_half_way() -> AsyncIterator[bytes]:
        nonlocal restarted
        yield body[: len(body) // 2]
        await anyio.to_thread.run_sync(pg.stop)
        await anyio.to_thread.run_sync(pg.start)
        restarted = True
        yield body[len(body) // 2 :]

    response = await authed_client.post(
        "/api/v1/images",
        content=restart_half_way(),
        headers={"Content-Type": form.headers["Content-Type"]},
    )
    assert restarted
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["tags"] == ["x"]
    assert (await authed_client.get(image["url"])).content == data
    assert await state.row_count("images") == 1
    assert len(await state.object_keys()) == 2


async def test_database_lost_after_the_objects_were_written_leaves_nothing_behind(
    make_app: AppFactory,
    settings: Settings,
    s3_proxy: FaultProxy,
    authed_client: httpx.AsyncClient,
    state: State,
) -> None:
    assert settings.database_url is not None
    host, port = _host_port(settings.database_url)
    db_proxy = FaultProxy(host, port).start()
    puts = f"PUT /{settings.s3_bucket_name}/images/".encode()
    try:
        async with (
            running(
                make_app,
                database_url=settings.database_url.replace(
                    f"@{host}:{port}/", f"@127.0.0.1:{db_proxy.port}/"
                ),
                s3_endpoint_url=s3_proxy.url,
            ) as app,
            owner_client(app, authed_client) as owner,
        ):
            s3_proxy.cut_at(puts, passes=1000)  # counts the PUTs, cuts none
            # The database connection drops when the new row's INSERT reaches it.
            db_proxy.cut_at(b"INSERT INTO images")
            response = await upload(owner, png_bytes(9), tags="lost")
            assert db_proxy.cuts == 1
            assert s3_proxy.marker_hits == 2, "the original and thumbnail were not written first"
            assert response.status_code == 503, response.text
            assert response.json()["detail"] == (
                "The database is unavailable; the upload was not saved."
            )
            await state.assert_nothing_stored()  # both objects were deleted again

            db_proxy.resume()
            assert (await upload(owner, png_bytes(9), tags="lost")).status_code == 201
            assert await state.row_count("images") == 1
            assert len(await state.object_keys()) == 2
    finally:
        db_proxy.close()
