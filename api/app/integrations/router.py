"""The chat apps' endpoints. Each one is off (404) until its secret is set, and
checks the request's proof over the raw body before parsing anything.

Answers are built by slack.py, mattermost.py and discord.py; every refusal is
raised before anything is stored, or rolls the request's transaction back."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from app.dependencies import CursorDep, SessionDep, SettingsDep
from app.errors import BadRequest, NotFound, ReactbinError
from app.integrations import discord, mattermost, slack
from app.integrations.payloads import parse_form, parse_json, read_body, text_field
from app.integrations.previews import Chat
from app.integrations.schemas import (
    DiscordResponse,
    MattermostActionResponse,
    MattermostCommandResponse,
    SlackMessage,
    refusals,
)
from app.integrations.signatures import (
    SignatureError,
    matching_token,
    verify_discord,
    verify_slack,
)
from app.integrations.state import StateCodec
from app.openapi import responses

router = APIRouter(prefix="/integrations", tags=["chat apps"])
_FORM = {
    "requestBody": {
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
    }
}
_JSON = {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}


class Unsigned(ReactbinError):
    status_code = 401


async def get_chat(
    request: Request, session: SessionDep, cursors: CursorDep, settings: SettingsDep
) -> Chat:
    secret: str = request.app.state.auth_secrets.jwt_secret
    return Chat(session, cursors, StateCodec(secret), settings)


ChatDep = Annotated[Chat, Depends(get_chat)]


def _checked(check: Any, *args: Any) -> None:
    try:
        check(*args)
    except SignatureError as exc:
        raise Unsigned(str(exc)) from None


async def _slack_body(request: Request, settings: SettingsDep) -> tuple[bytes, str]:
    """The verified body and its signature (which keys the replay check)."""
    if settings.slack_signing_secret is None:
        raise NotFound("The Slack integration is off: set SLACK_SIGNING_SECRET.")
    body = await read_body(request)
    signature = request.headers.get("x-slack-signature", "")
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    secret = settings.slack_signing_secret.get_secret_value()
    _checked(verify_slack, secret, timestamp, signature, body)
    return body, "slack:" + hashlib.sha256(signature.encode()).hexdigest()


SlackBody = Annotated[tuple[bytes, str], Depends(_slack_body)]


@router.post(
    "/slack/commands",
    response_model=SlackMessage,
    response_model_exclude_none=True,
    responses=refusals(400, 401, 404, 409, 413, 429),
    openapi_extra=_FORM,
)
async def slack_command(signed: SlackBody, chat: ChatDep) -> dict[str, Any]:
    """Slack's slash command `/reaction <words>`: an ephemeral preview of the best match."""
    body, key = signed
    return await slack.command(chat, parse_form(body), key)


@router.post(
    "/slack/interactions",
    status_code=200,
    response_class=Response,
    responses={
        200: {"description": "Done (the message is changed through response_url)"},
        **refusals(400, 401, 404, 409, 413, 429, 502),
    },
    openapi_extra=_FORM,
)
async def slack_interaction(signed: SlackBody, chat: ChatDep) -> Response:
    """A click on the preview's Send, Next or Cancel."""
    body, key = signed
    payload = text_field(parse_form(body), "payload")
    await slack.interaction(chat, payload, key)
    return Response(status_code=200)


def _mattermost_token(request: Request, fields: dict[str, str], allowed: list[str]) -> None:
    """The token as the form field `token` and as `Authorization: Token <token>`:
    each one present must be a configured token, and one at least must be there."""
    header = request.headers.get("authorization", "")
    given = [fields["token"]] if "token" in fields else []
    if header:
        scheme, _, value = header.partition(" ")
        given.append(value.strip() if scheme.lower() == "token" else "")
    if not given or not all(matching_token(allowed, token) for token in given):
        raise Unsigned("The Mattermost token is missing or wrong.")


@router.post(
    "/mattermost/commands",
    response_model=MattermostCommandResponse,
    response_model_exclude_none=True,
    # 422: a `send` other than `now` (FastAPI validates the query before the handler).
    responses={**refusals(400, 401, 404, 409, 413, 429), **responses(422)},
    openapi_extra=_FORM,
)
async def mattermost_command(
    request: Request,
    chat: ChatDep,
    send: Annotated[
        Literal["now"] | None,
        Query(description="`now`: post the best match in the channel, with no preview."),
    ] = None,
) -> dict[str, Any]:
    """Mattermost's slash command `/reaction <words>`."""
    allowed = mattermost.tokens(chat.settings)
    if not allowed:
        raise NotFound("The Mattermost integration is off: set MATTERMOST_TOKENS.")
    fields = parse_form(await read_body(request))
    _mattermost_token(request, fields, allowed)
    return await mattermost.command(chat, fields, send_now=send == "now")


@router.post(
    "/mattermost/actions",
    response_model=MattermostActionResponse,
    responses=refusals(400, 404, 409, 413, 429, 502),
    openapi_extra=_JSON,
)
async def mattermost_action(request: Request, chat: ChatDep) -> dict[str, Any]:
    """A click on the preview's Send, Next or Cancel (its context is signed by this server)."""
    if not mattermost.tokens(chat.settings):
        raise NotFound("The Mattermost integration is off: set MATTERMOST_TOKENS.")
    return await mattermost.action(chat, await read_body(request))


@router.post(
    "/discord/interactions",
    response_model=DiscordResponse,
    response_model_exclude_none=True,
    responses=refusals(400, 401, 404, 409, 413, 429),
    openapi_extra=_JSON,
)
async def discord_interaction(
    request: Request, chat: ChatDep, background: BackgroundTasks
) -> dict[str, Any]:
    """Discord's interactions: PING, `/reaction`, its autocomplete and its buttons."""
    key = chat.settings.discord_public_key
    if not key:
        raise NotFound("The Discord integration is off: set DISCORD_PUBLIC_KEY.")
    body = await read_body(request)
    signature = request.headers.get("x-signature-ed25519", "")
    timestamp = request.headers.get("x-signature-timestamp", "")
    _checked(verify_discord, key, timestamp, signature, body)
    payload = parse_json(body)
    kind = payload.get("type")
    if kind == discord.PING:
        return {"type": discord.PONG}
    if kind not in (discord.APPLICATION_COMMAND, discord.MESSAGE_COMPONENT, discord.AUTOCOMPLETE):
        raise BadRequest("Unknown interaction type.")
    answer, follow_up = await discord.act(chat, payload, kind)
    if follow_up is not None:  # after the answer: Discord takes follow-ups only then
        background.add_task(discord.follow_up, follow_up)
    return answer
