"""What the transfer commands share on the terminal: their options, the progress
bar, one-line errors, and the summary table with the problems under it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
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
from app.transfer.importer import Problem

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


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run the async work; a TransferError is one line and exit status 1, never a traceback."""
    try:
        return asyncio.run(work)
    except TransferError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to carry on where it stopped")
        raise typer.Exit(130) from None


def client(
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


def print_summary(title: str, rows: Iterable[tuple[str, object]]) -> None:
    """The run's counts as a `result | count` table on stdout."""
    table = Table("result", "count", title=title)
    for label, count in rows:
        table.add_row(label, str(count))
    out.print(table)


def print_problems(kind: str, problems: Iterable[Problem]) -> None:
    """One line per file on stderr, `kind: file: reason`."""
    for problem in problems:
        err.print(f"{kind}: {problem.label}: {problem.reason}", highlight=False)
