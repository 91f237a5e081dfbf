"""`reactbin import` and `reactbin export` (and `restore`): typer commands over the HTTP API."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from app.transfer.client import Credentials, ReactbinClient, TransferError
from app.transfer.exporter import ExportSummary, export_library, list_images
from app.transfer.gifable import GifableSource
from app.transfer.importer import Summary, import_items, server_inventory
from app.transfer.journal import Journal, default_journal_path
from app.transfer.restorer import RestoreSummary, read_export, restore_library
from app.transfer.sources import Item, collect

T = TypeVar("T")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Server = Annotated[
    str,
    typer.Option(envvar="REACTBIN_SERVER", help="The reactbin server to talk to."),
]
Username = Annotated[
    str | None, typer.Option(envvar="REACTBIN_USERNAME", help="Owner login (with --password).")
]
Password = Annotated[
    str | None,
    typer.Option(envvar="REACTBIN_PASSWORD", help="Owner password.", show_default=False),
]
Token = Annotated[
    str | None,
    typer.Option(
        envvar="REACTBIN_TOKEN",
        help="A Bearer token from POST /api/v1/auth/token, instead of a password.",
        show_default=False,
    ),
]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="Transfers at once.")]
DEFAULT_SERVER = "http://127.0.0.1:8000"


class RateColumn(ProgressColumn):
    """Images per second, averaged by rich over the last samples."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.1f} img/s" if speed else "    - img/s", style="progress.data.speed")


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[str], None]]:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    task = progress.add_task(description, total=total)
    with progress:
        yield lambda _kind: progress.advance(task)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run the async work; a TransferError is one line and exit status 1, never a traceback."""
    try:
        return asyncio.run(work)
    except TransferError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to carry on where it stopped")
        raise typer.Exit(130) from None


def _client(
    server: str, username: str | None, password: str | None, token: str | None, jobs: int
) -> ReactbinClient:
    if not server.startswith(("http://", "https://")):
        message = f"--server / REACTBIN_SERVER must start with http:// or https:// ({server!r})"
        err.print(f"[red]error:[/red] {message}", highlight=False)
        raise typer.Exit(2)
    if username and not password and not token:
        if not sys.stdin.isatty():
            err.print("[red]error:[/red] --username needs --password (or REACTBIN_PASSWORD)")
            raise typer.Exit(2)
        # Asked for, not typed on the command line: it stays out of the shell history.
        password = typer.prompt(f"Password for {username}", hide_input=True)
    credentials = Credentials(username=username, password=password, token=token)
    return ReactbinClient(server, credentials, connections=jobs + 2)


def import_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files and folders (recursively); an export folder is restored."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Add this tag to every image.")
    ] = None,
    server: Server = DEFAULT_SERVER,
    username: Username = None,
    password: Password = None,
    token: Token = None,
    jobs: Jobs = 4,
    from_gifable: Annotated[
        str | None,
        typer.Option(help="Migrate the Gifable library at this URL (with --gifable-token)."),
    ] = None,
    gifable_token: Annotated[
        str | None,
        typer.Option(envvar="GIFABLE_TOKEN", help="The Gifable API token (its settings page)."),
    ] = None,
    journal: Annotated[
        Path | None,
        typer.Option(
            help="Where confirmed uploads are remembered for resuming "
            "(default: one file per server in the user's state directory)."
        ),
    ] = None,
) -> None:
    """Upload images to a reactbin server: titles from file names, tags from sub-folders.

    Duplicates are skipped and counted, refused files are reported and do not stop
    the run, and a second run skips what is already in. Exit status 0 when the run
    completed (even with refusals), 1 when some files could not be sent.
    """
    extra = tuple(tag or ())
    if not paths and not from_gifable:
        err.print("[red]error:[/red] give files or folders to import, or --from-gifable URL")
        raise typer.Exit(2)
    if from_gifable and not gifable_token:
        err.print("[red]error:[/red] --from-gifable needs --gifable-token (or GIFABLE_TOKEN)")
        raise typer.Exit(2)
    ignored = 0
    items: list[Item] = []
    if paths:
        try:
            collected = collect(paths, extra)
        except FileNotFoundError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        items, ignored = collected.items, len(collected.ignored)
    api = _client(server, username, password, token, jobs)
    journal_path = journal or default_journal_path(api.server)

    async def work() -> Summary:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(api)
            await api.authenticate()
            if from_gifable:
                source = await stack.enter_async_context(
                    GifableSource(from_gifable, gifable_token or "")
                )
                items.extend(source.items(await source.media(), extra))
            book = Journal(journal_path).load()
            stack.callback(book.close)
            with err.status("asking the server what it already has"):
                inventory = await server_inventory(api)
            with progress_bar("importing", len(items)) as report:
                return await import_items(
                    api, items, jobs=jobs, journal=book, report=report, inventory=inventory
                )

    summary = _run(work())
    summary.ignored = ignored
    _print_import_summary(summary)
    if summary.failed:
        err.print(
            f"{len(summary.failed)} file(s) could not be sent; "
            "run the same command again to retry them (what is in is skipped)."
        )
        raise typer.Exit(1)


def _print_import_summary(summary: Summary) -> None:
    table = Table("result", "count", title="reactbin import")
    table.add_row("uploaded", str(summary.created))
    table.add_row("duplicates (already in the library)", str(summary.duplicates))
    table.add_row("skipped (imported before, not sent again)", str(summary.skipped))
    table.add_row("refused by the server", str(len(summary.refused)))
    table.add_row("failed (network or server error)", str(len(summary.failed)))
    if summary.ignored:
        table.add_row("ignored (not image files)", str(summary.ignored))
    table.add_row("time", f"{summary.seconds:.1f} s ({summary.rate:.1f} images/s)")
    out.print(table)
    for problem in summary.refused:
        out.print(f"refused: {problem.label}: {problem.reason} ({problem.status})", highlight=False)
    for problem in summary.failed:
        err.print(f"failed: {problem.label}: {problem.reason}", highlight=False)


def export_command(
    directory: Annotated[Path, typer.Argument(help="Folder to write (created if missing).")],
    server: Server = DEFAULT_SERVER,
    username: Username = None,
    password: Password = None,
    token: Token = None,
    jobs: Jobs = 4,
) -> None:
    """Write every original plus manifest.json (metadata) into DIRECTORY.

    `reactbin restore DIRECTORY` brings it back with the same ids (so old links work);
    give the owner's credentials so the manifest also carries share counts and
    perceptual hashes. A second run downloads only what is missing.
    """
    if directory.exists() and not directory.is_dir():
        err.print(f"[red]error:[/red] {directory} exists and is not a folder", highlight=False)
        raise typer.Exit(2)
    api = _client(server, username, password, token, jobs)

    async def work() -> ExportSummary:
        async with api:
            if api.can_write:
                await api.authenticate()
            with err.status("listing the library"):
                images = await list_images(api)
            with progress_bar("exporting", len(images)) as report:
                return await export_library(api, directory, images, jobs=jobs, report=report)

    summary = _run(work())
    table = Table("result", "count", title="reactbin export")
    table.add_row("downloaded", str(summary.downloaded))
    table.add_row("already in the folder", str(summary.reused))
    table.add_row("deleted meanwhile", str(summary.gone))
    table.add_row("failed", str(len(summary.failed)))
    table.add_row("time", f"{summary.seconds:.1f} s")
    out.print(table)
    out.print(f"manifest: {directory / 'manifest.json'}", highlight=False)
    for problem in summary.failed:
        err.print(f"failed: {problem.label}: {problem.reason}", highlight=False)
    if summary.failed:
        raise typer.Exit(1)


def restore_command(
    directory: Annotated[Path, typer.Argument(help="A folder written by `reactbin export`.")],
    server: Server = DEFAULT_SERVER,
    username: Username = None,
    password: Password = None,
    token: Token = None,
    jobs: Jobs = 4,
) -> None:
    """Load an export into a server keeping every image's id, so old links work again.

    Keeps created times, titles, descriptions, tags, recognised text (and your
    corrections), share counts and perceptual hashes; renditions and text
    recognition are redone by the worker. Running it again changes nothing and
    carries on after an interruption. An id the server holds with other bytes is
    reported as a conflict and never overwritten. Exit status 1 when any image was
    not restored.
    """
    api = _client(server, username, password, token, jobs)

    async def work() -> RestoreSummary:
        async with api:
            await api.authenticate()
            entries = read_export(directory)
            with progress_bar("restoring", len(entries)) as report:
                return await restore_library(api, directory, entries, jobs=jobs, report=report)

    summary = _run(work())
    table = Table("result", "count", title="reactbin restore")
    table.add_row("restored", str(summary.restored))
    table.add_row("already there (unchanged)", str(summary.unchanged))
    table.add_row("conflicts (id taken by other bytes)", str(len(summary.conflicts)))
    table.add_row("refused by the server", str(len(summary.refused)))
    table.add_row("failed (network, server or file error)", str(len(summary.failed)))
    table.add_row("time", f"{summary.seconds:.1f} s")
    out.print(table)
    for kind, problems in (
        ("conflict", summary.conflicts),
        ("refused", summary.refused),
        ("failed", summary.failed),
    ):
        for problem in problems:
            err.print(f"{kind}: {problem.label}: {problem.reason}", highlight=False)
    if summary.conflicts or summary.refused or summary.failed:
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    cli.command("import")(import_command)
    cli.command("export")(export_command)
    cli.command("restore")(restore_command)


# `reactbin import|export` run from this light app (app/entry.py); `reactbin --help`
# lists them with the server's commands (app/cli.py registers them there too).
client_cli = typer.Typer(help="reactbin: import and export over the HTTP API.")
register(client_cli)
