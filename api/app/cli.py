"""The `reactbin` command: serve, worker, migrate, check, reprocess, hash-password;
import and export live in app/transfer/."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from datetime import timedelta
from typing import Annotated, Any

import structlog
import typer
from rich.console import Console
from rich.table import Table

from app import consistency, db
from app import migrate as migrations
from app.auth.bootstrap import resolve_auth_secrets
from app.auth.security import hash_password
from app.config import Settings, SettingsError, load_settings
from app.consistency import CheckReport
from app.db import create_engine, create_sessionmaker
from app.images import repository as image_repository
from app.images.spool import sweep_stale_job_dirs
from app.integrations.cli import register as register_integration_commands
from app.jobs.queue import WorkerResources, defer_text_recognition, make_queue, run_worker
from app.logging import configure_logging
from app.main import create_app, prepare_database
from app.renditions import rebuild as renditions_rebuild
from app.storage import StorageError
from app.storage.factory import open_storage
from app.tasks import make_worker_queue
from app.transfer.cli import register as register_transfer_commands

cli = typer.Typer(help="reactbin: a self-hosted library of reaction images.", no_args_is_help=True)
# soft_wrap: a URL or a password must never be broken across lines.
out = Console(soft_wrap=True)
log = structlog.get_logger()
err = Console(stderr=True, soft_wrap=True)


def _settings(**overrides: object) -> Settings:
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    # Every command logs like the server (the worker's job lines as JSON in production).
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


def _unreachable(exc: BaseException) -> typer.Exit:
    return _fail(f"DATABASE_URL: cannot connect to PostgreSQL ({db.failure_reason(exc)})")


async def _preflight(settings: Settings) -> Settings:
    """Check what a wrong setting would break, so start-up fails with one clear line."""
    settings = await prepare_database(settings)
    if settings.database_url is None:  # prepare_database sets it
        raise SettingsError("DATABASE_URL is not set")
    engine = create_engine(settings.database_url, pool_size=1, pooler=settings.database_pooler)
    try:
        await db.ping(engine)
    except Exception as exc:
        raise _unreachable(exc) from None
    finally:
        await engine.dispose()
    try:
        storage = await open_storage(settings)
        try:
            await storage.ping()
        finally:
            await storage.close()
    except StorageError as exc:
        raise _fail(f"S3_BUCKET_NAME / S3_ENDPOINT_URL: storage is not usable ({exc})") from None
    except OSError as exc:
        raise _fail(f"DATA_DIR: local storage is not usable ({exc})") from None
    return settings


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (env HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (env PORT).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes sharing the port (needs DATABASE_URL).")
    ] = 1,
) -> None:
    """Run the web server. With no DATABASE_URL it starts an embedded PostgreSQL."""
    import uvicorn

    settings = _settings(host=host, port=port)
    if workers > 1 and settings.embedded_database:
        raise _fail(
            "--workers needs DATABASE_URL: the embedded PostgreSQL serves one process; "
            "run `reactbin serve` without --workers, or set DATABASE_URL"
        )
    settings = asyncio.run(_preflight(settings))
    secrets = resolve_auth_secrets(settings)
    url = f"http://{settings.host}:{settings.port}"
    out.print(f"reactbin is running at [bold]{url}[/bold]  (API docs: {url}/docs)", highlight=False)
    if secrets.generated_password:
        out.print(
            f"Owner login: [bold]{secrets.owner_username}[/bold] / "
            f"[bold]{secrets.generated_password}[/bold]\n"
            "This password is shown once and stored only as a hash. "
            "Set OWNER_PASSWORD to choose your own.",
            highlight=False,
        )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": True,
        "log_level": "warning",
        # uvicorn's own lines go through our handler: JSON like the rest (app/logging.py).
        "log_config": None,
        # In-flight uploads get this long to finish after SIGTERM.
        "timeout_graceful_shutdown": 30,
    }
    if workers > 1:
        _serve_processes(settings, workers, options)
        return
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into
    # SystemExit lets exit handlers run, which stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(create_app(settings), **options)


def _serve_processes(settings: Settings, workers: int, options: dict[str, Any]) -> None:
    """uvicorn's supervisor: N processes accept on one socket; each builds its app from
    the environment, so what the command line chose goes there first. SIGTERM drains
    them all (in-flight requests finish); a process that dies is replaced."""
    import os

    import uvicorn

    os.environ.update(
        {"HOST": settings.host, "PORT": str(settings.port), "API_BASE_URL": settings.api_base_url}
    )
    uvicorn.run("app.main:create_app", factory=True, workers=workers, **options)


@cli.command()
def migrate() -> None:
    """Apply database migrations (run before starting a new version)."""
    settings = _settings()
    if settings.database_url is None:
        settings = asyncio.run(prepare_database(settings))
        out.print("Embedded database migrated.")
        return
    try:
        migrations.upgrade(settings.database_url, pooler=settings.database_pooler)
    except db.CONNECTION_ERRORS as exc:
        raise _unreachable(exc) from None
    out.print("Database migrated to the latest version.")


@cli.command()
def check(
    repair: Annotated[
        bool, typer.Option("--repair", help="Delete orphans, rebuild thumbnails.")
    ] = False,
    grace_minutes: Annotated[
        int, typer.Option(help="Objects younger than this may belong to an upload in flight.")
    ] = 15,
) -> None:
    """Verify that every row has its objects and every object has its row."""
    report = asyncio.run(_check(_settings(), repair, timedelta(minutes=grace_minutes)))
    table = Table("check", "count", title="reactbin check")
    table.add_row("images (rows)", str(report.rows))
    table.add_row("objects", str(report.objects))
    table.add_row("rows missing their original", str(len(report.missing_originals)))
    table.add_row("rows missing their thumbnail", str(len(report.missing_thumbnails)))
    table.add_row("renditions (rows)", str(report.renditions))
    table.add_row("renditions missing their object", str(len(report.missing_renditions)))
    table.add_row("orphan objects", str(len(report.orphans)))
    table.add_row("recent objects without a row (uploads in flight?)", str(report.young_orphans))
    if repair:
        table.add_row("repaired", str(len(report.repaired)))
    out.print(table)
    for line in report.missing_originals:
        out.print(f"missing original: {line}", highlight=False)
    for line in report.missing_thumbnails:
        out.print(f"missing thumbnail: {line}", highlight=False)
    for line in report.missing_renditions:
        out.print(f"missing rendition: {line}", highlight=False)
    for line in report.orphans:
        out.print(f"orphan: {line}", highlight=False)
    for line in report.repair_failures:
        err.print(f"repair failed: {line}", highlight=False)
    if not report.consistent:
        raise typer.Exit(1)


async def _check(settings: Settings, repair: bool, grace: timedelta) -> CheckReport:
    settings = await _preflight(settings)
    if settings.database_url is None:  # prepare_database sets it
        raise SettingsError("DATABASE_URL is not set")
    engine = create_engine(settings.database_url, pool_size=2, pooler=settings.database_pooler)
    storage = await open_storage(settings)
    # A repaired rendition is rebuilt by the workers.
    queue = make_queue(settings.database_url, pooler=settings.database_pooler)
    try:
        async with queue.open_async():
            return await consistency.check(
                create_sessionmaker(engine), storage, repair=repair, grace=grace, queue=queue
            )
    finally:
        await storage.close()
        await engine.dispose()


@cli.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once.")] = 1,
) -> None:
    """Run background jobs (text recognition, renditions); run as many as you like, anywhere."""
    asyncio.run(_worker(_settings(), concurrency))


async def _worker(settings: Settings, concurrency: int) -> None:
    settings = await _preflight(settings)
    if settings.database_url is None:  # prepare_database sets it
        raise SettingsError("DATABASE_URL is not set")
    engine = create_engine(settings.database_url, pool_size=2, pooler=settings.database_pooler)
    storage = await open_storage(settings)
    queue = make_worker_queue(settings.database_url, pooler=settings.database_pooler)
    resources = WorkerResources(create_sessionmaker(engine), storage, settings)
    swept = await asyncio.to_thread(sweep_stale_job_dirs, settings.upload_tmp_dir)
    if swept:
        log.info("worker.swept_job_dirs", count=swept)
    out.print("reactbin worker started; Ctrl-C to stop.")
    try:
        async with queue.open_async():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            job = asyncio.create_task(run_worker(queue, resources, concurrency=concurrency))
            await stop.wait()
            # The job in hand finishes; procrastinate re-queues nothing it had not started.
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
    finally:
        await storage.close()
        await engine.dispose()


@cli.command()
def reprocess(
    every: Annotated[
        bool, typer.Option("--all", help="Every image, not only pending ones.")
    ] = False,
) -> None:
    """Queue the background job again for images that have not been processed."""
    count = asyncio.run(_reprocess(_settings(), every))
    out.print(f"{count} image(s) queued.")


async def _reprocess(settings: Settings, every: bool) -> int:
    settings = await _preflight(settings)
    if settings.database_url is None:  # prepare_database sets it
        raise SettingsError("DATABASE_URL is not set")
    engine = create_engine(settings.database_url, pool_size=1, pooler=settings.database_pooler)
    queue = make_queue(settings.database_url, pooler=settings.database_pooler)
    try:
        async with create_sessionmaker(engine)() as session:
            ids = await image_repository.ids_to_process(session, every=every)
        async with queue.open_async():
            for image_id in ids:
                await defer_text_recognition(queue, image_id)
        return len(ids)
    finally:
        await engine.dispose()


@cli.command()
def renditions(
    every: Annotated[
        bool, typer.Option("--all", help="Every image, not only those without renditions.")
    ] = False,
    now: Annotated[
        bool, typer.Option("--now", help="Build them in this process instead of queueing jobs.")
    ] = False,
) -> None:
    """Make the renditions chat apps use (GIF sizes, MP4, WebM, WebP) for pending images."""
    result = asyncio.run(_renditions(_settings(), every, now))
    if not now:
        out.print(f"{result.queued} image(s) queued.")
        return
    done = ", ".join(f"{count} {outcome}" for outcome, count in sorted(result.outcomes.items()))
    out.print(f"Renditions: {done or 'nothing to do'}.", highlight=False)
    if result.failed:
        raise typer.Exit(1)


async def _renditions(
    settings: Settings, every: bool, now: bool
) -> renditions_rebuild.RebuildResult:
    settings = await _preflight(settings)
    return await renditions_rebuild.run(settings, every=every, now=now)


@cli.command("hash-password")
def hash_password_command(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Print an argon2 hash to put in OWNER_PASSWORD instead of the password itself."""
    out.print(hash_password(password), highlight=False)


register_transfer_commands(cli)
register_integration_commands(cli)


def main() -> None:
    cli()
