"""Discord: the `/reaction` application command, its autocomplete and buttons.

Every interaction is answered in its own response (Discord waits 3 s); only
Send also posts a follow-up message to the channel through Discord's API,
after the answer, since a follow-up needs the interaction answered first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import structlog

from app.errors import BadRequest, Duplicate
from app.integrations import admission, outbound, previews
from app.integrations.payloads import id_field, nested, text_field
from app.integrations.previews import Chat, Match
from app.tenor import terms

log = structlog.get_logger()
Message = dict[str, Any]

# Interaction types and the answers to them (Discord's documented numbers).
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 1, 2, 3, 4
PONG, CHANNEL_MESSAGE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT = 1, 4, 7, 8
EPHEMERAL = 1 << 6
# A button's custom_id holds at most 100 characters: "n:<position>:<words>".
MAX_WORDS_LENGTH = 80
MAX_CHOICES = 25
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,500}$")
COMMAND: Message = {
    "name": "reaction",
    "type": 1,
    "description": "Find a reaction image and post it",
    "options": [
        {
            "type": 3,
            "name": "words",
            "description": "What to look for: words of a title, a tag, the text in the image",
            "required": True,
            "autocomplete": True,
            "max_length": MAX_WORDS_LENGTH,
        }
    ],
}


def _preview_data(match: Match) -> Message:
    buttons = [
        {"type": 2, "style": 1, "label": "Send", "custom_id": f"s:{match.image_id}"},
        {"type": 2, "style": 2, "label": "Next", "custom_id": f"n:{match.position}:{match.words}"},
    ]
    return {
        "flags": EPHEMERAL,
        "content": match.url,
        "embeds": [{"title": match.alt_text[:256], "image": {"url": match.url}}],
        "components": [{"type": 1, "components": buttons}],
    }


def _sentence(text: str) -> Message:
    return {"flags": EPHEMERAL, "content": text, "embeds": [], "components": []}


def who(payload: dict[str, Any]) -> tuple[str, str]:
    """(workspace, user): the server (guild) the command came from, or the DM's user."""
    member = payload.get("member")
    user = id_field(
        nested(member, "user") if isinstance(member, dict) else nested(payload, "user"), "id"
    )
    guild = payload.get("guild_id")
    workspace = f"discord:{id_field(payload, 'guild_id')}" if guild else f"discord:dm:{user}"
    return workspace, user


def _words(data: dict[str, Any]) -> str:
    """The `words` option's value (for autocomplete: what is typed so far)."""
    options = data.get("options")
    for option in options if isinstance(options, list) else []:
        if isinstance(option, dict) and option.get("name") == "words":
            value = option.get("value")
            text = value if isinstance(value, str) else ""
            return previews.clean_words(text, MAX_WORDS_LENGTH)
    return ""


async def command(chat: Chat, payload: dict[str, Any]) -> Message:
    words = _words(nested(payload, "data"))
    match = await chat.find(words)
    if match is None:
        return {"type": CHANNEL_MESSAGE, "data": _sentence(previews.no_match_sentence(words))}
    return {"type": CHANNEL_MESSAGE, "data": _preview_data(match)}


async def autocomplete(chat: Chat, payload: dict[str, Any]) -> Message:
    """Queries from the library: tags and words starting with what is typed, then the
    tags and titles of its best matches; the most used tags when nothing is typed."""
    typed = _words(nested(payload, "data"))
    if typed:
        found = (await terms.autocomplete(chat.session, typed, MAX_CHOICES)).results
        found += (
            await terms.search_suggestions(chat.session, chat.cursors, typed, MAX_CHOICES)
        ).results
    else:
        found = (await terms.trending_terms(chat.session, MAX_CHOICES)).results
    unique = list(dict.fromkeys(t[:MAX_WORDS_LENGTH] for t in found if t.strip()))
    choices = [{"name": term, "value": term} for term in unique[:MAX_CHOICES]]
    return {"type": AUTOCOMPLETE_RESULT, "data": {"choices": choices}}


async def component(
    chat: Chat, payload: dict[str, Any], workspace: str
) -> tuple[Message, Message | None]:
    """A click on Send or Next: the answer, and for Send the follow-up message to post."""
    custom_id = text_field(nested(payload, "data"), "custom_id")
    kind, _, rest = custom_id.partition(":")
    if kind == "n":
        position_text, _, words = rest.partition(":")
        if not position_text.isdigit():
            raise BadRequest("The button's custom_id is not one this server made.")
        words = previews.clean_words(words, MAX_WORDS_LENGTH)
        match = await chat.find(words, int(position_text) + 1)
        data = _preview_data(match) if match else _sentence(previews.no_more_sentence(words))
        return {"type": UPDATE_MESSAGE, "data": data}, None
    if kind == "s":
        # One preview message sends once, however often its Send arrives.
        message_id = id_field(nested(payload, "message"), "id")
        if not await admission.remember(chat.session, f"discord-send:{message_id}", workspace):
            raise Duplicate("This reaction was already sent.")
        sent = await chat.send(rest, "")
        if sent is None:
            return {"type": UPDATE_MESSAGE, "data": _sentence(previews.GONE_SENTENCE)}, None
        done = {
            "type": UPDATE_MESSAGE,
            "data": {"content": "Sent.", "embeds": [], "components": []},
        }
        return done, {"content": sent.url}
    raise BadRequest("The button's custom_id is not one this server made.")


@dataclass(frozen=True)
class FollowUp:
    url: str
    message: Message


async def follow_up(sent: FollowUp) -> None:
    """Posts the sent reaction to the channel (after the interaction was answered)."""
    try:
        await outbound.post_json(sent.url, sent.message)
    except outbound.Unreachable:
        log.warning("integrations.discord.follow_up_failed")


async def act(chat: Chat, payload: dict[str, Any], kind: int) -> tuple[Message, FollowUp | None]:
    """A command, autocomplete or click: the answer, and for Send the follow-up to post."""
    workspace, user = who(payload)
    key = "discord:" + id_field(payload, "id")
    await admission.admit(chat.session, key, workspace, chat.per_minute)
    log.info("integrations.discord.interaction", workspace=workspace, user_id=user, kind=kind)
    if kind == AUTOCOMPLETE:
        return await autocomplete(chat, payload), None
    if kind == APPLICATION_COMMAND:
        return await command(chat, payload), None
    # Checked before acting: Send's follow-up goes to a URL made of these two.
    application_id, token = id_field(payload, "application_id"), text_field(payload, "token")
    if not _TOKEN.match(token):
        raise BadRequest("The field token is not an interaction token.")
    answer, message = await component(chat, payload, workspace)
    if message is None:
        return answer, None
    api = chat.settings.discord_api_base_url.rstrip("/")
    return answer, FollowUp(f"{api}/webhooks/{application_id}/{token}", message)


async def register(api_base: str, application_id: str, bot_token: str) -> Message:
    """Creates (or updates) the global `/reaction` command of the application."""
    url = f"{api_base.rstrip('/')}/applications/{application_id}/commands"
    response = await outbound.post_json(url, COMMAND, headers={"Authorization": f"Bot {bot_token}"})
    answer: Message = response.json()
    return answer
