"""`reactbin discord register`: creates the `/reaction` command in a Discord application."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

import typer
from rich.console import Console

from app.config import SettingsError, load_settings
from app.integrations import discord
from app.integrations.outbound import Unreachable

discord_cli = typer.Typer(help="Discord: register the /reaction command.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


@discord_cli.command("register")
def register_command(
    application_id: Annotated[
        str | None, typer.Option(help="The application's id (env DISCORD_APPLICATION_ID).")
    ] = None,
    bot_token: Annotated[
        str | None, typer.Option(help="The bot's token (env DISCORD_BOT_TOKEN).")
    ] = None,
) -> None:
    """Create (or update) the global /reaction command, with autocomplete."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    application_id = application_id or settings.discord_application_id
    token = bot_token or (
        settings.discord_bot_token.get_secret_value() if settings.discord_bot_token else ""
    )
    if not _SNOWFLAKE.match(application_id or ""):
        raise _fail("set DISCORD_APPLICATION_ID (or --application-id): the application's id.")
    if not token:
        raise _fail("set DISCORD_BOT_TOKEN (or --bot-token): the bot's token.")
    api = settings.discord_api_base_url
    try:
        answer = asyncio.run(discord.register(api, application_id, token))
    except Unreachable as exc:
        raise _fail(f"Discord did not register the command: {exc.message}") from None
    out.print(f"registered /reaction (command id {answer.get('id', '?')})", highlight=False)


def register(cli: typer.Typer) -> None:
    cli.add_typer(discord_cli, name="discord")
