"""`reactbin import` and `reactbin export` (and `restore`): typer commands over the HTTP API."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated

import typer

from app.transfer.exporter import ExportSummary, export_library, list_images
from app.transfer.gifable import GifableSource
from app.transfer.importer import Summary, import_items, server_inventory
from app.transfer.journal import Journal, default_journal_path
from app.transfer.restorer import RestoreSummary, read_export, restore_library
from app.transfer.sources import Item, collect
from app.transfer.terminal import (
    DEFAULT_SERVER,
    Jobs,
    Password,
    Server,
    Token,
    Username,
    client,
    err,
    out,
    print_problems,
    print_summary,
    progress_bar,
    run,
)


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
    api = client(server, username, password, token, jobs)
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

    summary = run(work())
    summary.ignored = ignored
    _print_import_summary(summary)
    if summary.failed:
        err.print(
            f"{len(summary.failed)} file(s) could not be sent; "
            "run the same command again to retry them (what is in is skipped)."
        )
        raise typer.Exit(1)


def _print_import_summary(summary: Summary) -> None:
    rows: list[tuple[str, object]] = [
        ("uploaded", summary.created),
        ("duplicates (already in the library)", summary.duplicates),
        ("skipped (imported before, not sent again)", summary.skipped),
        ("refused by the server", len(summary.refused)),
        ("failed (network or server error)", len(summary.failed)),
    ]
    if summary.ignored:
        rows.append(("ignored (not image files)", summary.ignored))
    rows.append(("time", f"{summary.seconds:.1f} s ({summary.rate:.1f} images/s)"))
    print_summary("reactbin import", rows)
    for problem in summary.refused:
        out.print(f"refused: {problem.label}: {problem.reason} ({problem.status})", highlight=False)
    print_problems("failed", summary.failed)


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
    api = client(server, username, password, token, jobs)

    async def work() -> ExportSummary:
        async with api:
            if api.can_write:
                await api.authenticate()
            with err.status("listing the library"):
                images = await list_images(api)
            with progress_bar("exporting", len(images)) as report:
                return await export_library(api, directory, images, jobs=jobs, report=report)

    summary = run(work())
    print_summary(
        "reactbin export",
        [
            ("downloaded", summary.downloaded),
            ("already in the folder", summary.reused),
            ("deleted meanwhile", summary.gone),
            ("failed", len(summary.failed)),
            ("time", f"{summary.seconds:.1f} s"),
        ],
    )
    out.print(f"manifest: {directory / 'manifest.json'}", highlight=False)
    print_problems("failed", summary.failed)
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
    api = client(server, username, password, token, jobs)

    async def work() -> RestoreSummary:
        async with api:
            await api.authenticate()
            entries = read_export(directory)
            with progress_bar("restoring", len(entries)) as report:
                return await restore_library(api, directory, entries, jobs=jobs, report=report)

    summary = run(work())
    print_summary(
        "reactbin restore",
        [
            ("restored", summary.restored),
            ("already there (unchanged)", summary.unchanged),
            ("conflicts (id taken by other bytes)", len(summary.conflicts)),
            ("refused by the server", len(summary.refused)),
            ("failed (network, server or file error)", len(summary.failed)),
            ("time", f"{summary.seconds:.1f} s"),
        ],
    )
    print_problems("conflict", summary.conflicts)
    print_problems("refused", summary.refused)
    print_problems("failed", summary.failed)
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
