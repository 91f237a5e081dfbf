from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app import db
from app.storage import Storage, StorageError

router = APIRouter(tags=["operations"])
READY_TIMEOUT = 3.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[Literal["database", "storage"], Literal["ok", "unavailable"]]


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


async def _database_ok(engine: Any) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await db.ping(engine)
    except Exception:  # any failure means "not ready"; the reason is not the client's business
        return False
    return True


async def _storage_ok(storage: Storage) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await storage.ping()
    except (StorageError, TimeoutError):
        return False
    return True


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "PostgreSQL or storage is unreachable"}},
)
async def readyz(request: Request) -> JSONResponse:
    """PostgreSQL and storage both answer."""
    database, storage = await asyncio.gather(
        _database_ok(request.app.state.engine), _storage_ok(request.app.state.storage)
    )
    checks = {
        "database": "ok" if database else "unavailable",
        "storage": "ok" if storage else "unavailable",
    }
    ready = database and storage
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
