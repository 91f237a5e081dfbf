"""Operations routes, OpenAPI, and the migration history."""

from __future__ import annotations

import anyio
import httpx

from app import migrate
from app.config import Settings


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_everything_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "storage": "ok"}


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32


async def test_openapi_documents_every_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in [
        "/api/v1/auth/token",
        "/api/v1/auth/me",
        "/api/v1/images",
        "/api/v1/images/random",
        "/api/v1/images/{image_id}",
        "/api/v1/images/{image_id}/file",
        "/api/v1/images/{image_id}/thumbnail",
        "/api/v1/tags",
        "/f/{filename}",
        "/healthz",
        "/readyz",
    ]:
        assert path in spec["paths"], path
    upload = spec["paths"]["/api/v1/images"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_models_and_migrations_agree(settings: Settings) -> None:
    """`alembic check`: autogenerate against the migrated database finds nothing to do."""
    assert settings.database_url is not None
    await anyio.to_thread.run_sync(migrate.check, settings.database_url)
