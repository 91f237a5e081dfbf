"""The application factory: the lifespan builds the engine, storage and auth state once."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import structlog
from fastapi import FastAPI

from app import migrate
from app.auth.bootstrap import resolve_auth_secrets
from app.auth.ratelimit import LoginRateLimiter
from app.auth.router import router as auth_router
from app.backup.router import router as backup_router
from app.config import Settings, SettingsError, get_settings
from app.db import create_engine, create_read_sessionmaker, create_sessionmaker
from app.embedded import start_embedded_postgres
from app.error_handlers import install_error_handlers
from app.images.router import files_router
from app.images.router import router as images_router
from app.images.spool import sweep_stale_spool_files
from app.images.trash.router import router as trash_router
from app.integrations.router import router as integrations_router
from app.jobs.queue import WorkerResources, libpq_url, run_worker
from app.logging import RequestIdMiddleware, configure_logging
from app.openapi import install_openapi
from app.ops.metrics import MetricsMiddleware
from app.ops.router import router as ops_router
from app.ops.storage_metrics import CountingStorage
from app.pagination import CursorCodec
from app.readcache.listener import LibraryListener
from app.readcache.middleware import ResponseCacheMiddleware
from app.readcache.store import ResponseCache
from app.renditions.router import router as renditions_router
from app.search.router import router as search_router
from app.storage.factory import open_storage
from app.tags.router import router as tags_router
from app.tasks import make_worker_queue
from app.tenor.http import TenorHttpMiddleware
from app.tenor.router import router as tenor_router
from app.web.router import router as web_router

log = structlog.get_logger()


async def prepare_database(settings: Settings) -> Settings:
    """With no DATABASE_URL, start the embedded server and migrate it (the quick-start)."""
    if settings.database_url is not None:
        return settings
    url = await anyio.to_thread.run_sync(start_embedded_postgres, settings.data_dir)
    await anyio.to_thread.run_sync(migrate.upgrade, url)
    in_process = settings.run_worker if settings.run_worker is not None else True
    return settings.model_copy(update={"database_url": url, "run_worker": in_process})


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = await prepare_database(app.state.settings)
    app.state.settings = settings
    if settings.database_url is None:  # prepare_database sets it
        raise SettingsError("DATABASE_URL is not set")
    if settings.auth_provider == "noop":
        log.warning("auth.disabled", detail="AUTH_PROVIDER=noop: every request acts as the owner")
    secrets = await anyio.to_thread.run_sync(resolve_auth_secrets, settings)
    app.state.auth_secrets = secrets
    app.state.cursor_codec = CursorCodec(secrets.jwt_secret)
    pooler = settings.database_pooler
    app.state.engine = create_engine(settings.database_url, pooler=pooler)
    app.state.login_limiter = LoginRateLimiter(app.state.engine)
    cache: ResponseCache = app.state.response_cache
    app.state.sessionmaker = create_sessionmaker(app.state.engine, after_commit=cache.clear)
    app.state.read_sessionmaker = create_read_sessionmaker(app.state.engine, pooler=pooler)
    # Wrapped so that every storage failure is counted for /metrics, whatever the backend.
    app.state.storage = CountingStorage(await open_storage(settings))
    stale_after = settings.upload_total_timeout_seconds + 2 * settings.storage_timeout_seconds
    swept = await anyio.to_thread.run_sync(
        sweep_stale_spool_files, settings.upload_tmp_dir, stale_after
    )
    if swept:
        log.info("app.swept_spool_files", count=swept)
    app.state.queue = make_worker_queue(settings.database_url, pooler=pooler)
    await app.state.queue.open_async()
    worker = _start_worker(app) if settings.worker_in_process else None
    listener = _start_listener(settings.database_url, cache) if cache.enabled else None
    log.info("app.started", storage=settings.resolved_storage_backend, worker=worker is not None)
    # What start-up made (modules, the ORM's and botocore's models, pools) lives as
    # long as the process: frozen, the collector stops rescanning it. A full
    # collection then took ~0 instead of ~135 ms (237,000 objects), a pause every
    # request in flight used to feel (measured with a search-warmed app).
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # what this app made can be collected again once it is gone
        for task in (listener, worker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await app.state.queue.close_async()
        await app.state.storage.close()
        await app.state.engine.dispose()
        log.info("app.stopped")


def _start_worker(app: FastAPI) -> asyncio.Task[None]:
    """The quick-start runs its background jobs in the server process itself."""
    resources = WorkerResources(app.state.sessionmaker, app.state.storage, app.state.settings)
    return asyncio.create_task(run_worker(app.state.queue, resources), name="reactbin-worker")


def _start_listener(database_url: str, cache: ResponseCache) -> asyncio.Task[None]:
    listener = LibraryListener(libpq_url(database_url), cache)
    return asyncio.create_task(listener.run(), name="reactbin-cache-listener")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = FastAPI(
        title="reactbin",
        summary="A self-hosted library of reaction images.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.state.response_cache = cache = ResponseCache(settings.response_cache_bytes)
    app.add_middleware(ResponseCacheMiddleware, cache=cache)  # innermost: a hit skips only the app
    app.add_middleware(TenorHttpMiddleware)
    app.add_middleware(MetricsMiddleware)  # inside RequestId: its log lines carry the id
    app.add_middleware(RequestIdMiddleware)
    app.include_router(search_router)  # GET /api/v1/images: the list, and search with `q`
    for router in (auth_router, images_router, tags_router, files_router, ops_router, web_router):
        app.include_router(router)
    app.include_router(renditions_router)  # /f/{id}/{format}.{ext}; /f/{id}.{ext} never has a "/"
    app.include_router(tenor_router)
    app.include_router(trash_router)
    app.include_router(backup_router)
    app.include_router(integrations_router)
    install_openapi(app)
    return app
