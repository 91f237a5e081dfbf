"""The `reactbin restore DIR` command (the work is in restorer.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app.transfer import cli
from app.transfer.restorer import RestoreSummary, read_export, restore_library


def restore_command(
    directory: Annotated[Path, typer.Argument(help="A folder written by `reactbin export`.")],
    server: cli.Server = cli.DEFAULT_SERVER,
    username: cli.Username = None,
    password: cli.Password = None,
    token: cli.Token = None,
    jobs: cli.Jobs = 4,
) -> None:
    """Load an export into a server keeping every image's id, so old links work again.

    Keeps created times, titles, descriptions, tags, recognised text (and your
    corrections), share counts and perceptual hashes; renditions and text
    recognition are redone by the worker. Running it again changes nothing and
    carries on after an interruption. An id the server holds with other bytes is
    reported as a conflict and never overwritten. Exit status 1 when any image was
    not restored.
    """
    api = cli._client(server, username, password, token, jobs)

    async def work() -> RestoreSummary:
        async with api:
            await api.authenticate()
            entries = read_export(directory)
            with cli.progress_bar("restoring", len(entries)) as report:
                return await restore_library(api, directory, entries, jobs=jobs, report=report)

    summary = cli._run(work())
    table = Table("result", "count", title="reactbin restore")
    table.add_row("restored", str(summary.restored))
    table.add_row("already there (unchanged)", str(summary.unchanged))
    table.add_row("conflicts (id taken by other bytes)", str(len(summary.conflicts)))
    table.add_row("refused by the server", str(len(summary.refused)))
    table.add_row("failed (network, server or file error)", str(len(summary.failed)))
    table.add_row("time", f"{summary.seconds:.1f} s")
    cli.out.print(table)
    for kind, problems in (
        ("conflict", summary.conflicts),
        ("refused", summary.refused),
        ("failed", summary.failed),
    ):
        for problem in problems:
            cli.err.print(f"{kind}: {problem.label}: {problem.reason}", highlight=False)
    if summary.conflicts or summary.refused or summary.failed:
        raise typer.Exit(1)
