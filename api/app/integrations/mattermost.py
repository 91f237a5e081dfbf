"""Mattermost: the `/reaction` slash command and its message buttons.

The command is authenticated by its token. A button click comes back from the
Mattermost server with the button's `context` and no token, so the context is
signed here (state.py) and carries the command's response_url: a click
is acted on only with a context this server issued, for 30 minutes (how long
Mattermost keeps a response_url open)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import structlog

from app.config import Settings
from app.errors import BadRequest, Duplicate
from app.integrations import admission, outbound, previews
from app.integrations.payloads import id_field, nested, parse_json, text_field
from app.integrations.previews import Chat, Match
from app.integrations.state import InvalidState, StateCodec

log = structlog.get_logger()
Message = dict[str, Any]
ACTIONS_PATH = "/integrations/mattermost/actions"
CONTEXT_LIFETIME_SECONDS = 30 * 60


def tokens(settings: Settings) -> list[str]:
    raw = settings.mattermost_tokens.get_secret_value() if settings.mattermost_tokens else ""
    return [token.strip() for token in raw.split(",") if token.strip()]


def _attachment(match: Match, chat: Chat, reply_to: str) -> Message:
    state = {
        "w": match.words,
        "p": match.position,
        "i": match.image_id,
        "n": previews.new_nonce(),
        "r": reply_to,
        "x": int(time.time()) + CONTEXT_LIFETIME_SECONDS,
    }
    signed = chat.states.encode(state)
    url = chat.settings.api_base_url + ACTIONS_PATH

    def button(name: str, action: str, style: str) -> Message:
        context = {"action": action, "state": signed}
        return {
            "id": action,
            "name": name,
            "type": "button",
            "style": style,
            "integration": {"url": url, "context": context},
        }

    return {
        "fallback": match.url,
        "title": match.alt_text,
        "image_url": match.url,
        "actions": [
            button("Send", "send", "primary"),
            button("Next", "next", "default"),
            button("Cancel", "cancel", "danger"),
        ],
    }


def _posted(match: Match, user: str) -> Message:
    return {"response_type": "in_channel", "text": match.url, "props": {"sent_by": user}}


async def command(
    chat: Chat,
    fields: dict[str, str],
    send_now: bool,
) -> Message:
    """The slash command's answer: a preview with buttons, or the match itself."""
    team, user = id_field(fields, "team_id"), id_field(fields, "user_id")
    words = previews.clean_words(text_field(fields, "text", required=False))
    # The preview's Send posts through the command's response_url (with send=now: unused).
    reply_to = "" if send_now else _http_url(text_field(fields, "response_url"))
    await admission.admit(chat.session, _replay_key(fields), f"mattermost:{team}", chat.per_minute)
    log.info("integrations.mattermost.command", team_id=team, user_id=user, words=words)
    match = await chat.find(words)
    if match is None:
        return {"response_type": "ephemeral", "text": previews.no_match_sentence(words)}
    if send_now:
        sent = await chat.send(match.image_id, words)
        if sent is None:  # deleted since it was found
            return {"response_type": "ephemeral", "text": previews.GONE_SENTENCE}
        return _posted(sent, user)
    return {
        "response_type": "ephemeral",
        "text": "",
        "attachments": [_attachment(match, chat, reply_to)],
    }


def _replay_key(fields: dict[str, Any]) -> str:
    """Mattermost gives every command and click its own trigger_id (a signed, base64
    string of a few hundred characters): the same one again is a replay."""
    trigger = text_field(fields, "trigger_id")
    return "mattermost:" + hashlib.sha256(trigger.encode(errors="replace")).hexdigest()


def _http_url(url: str) -> str:
    if not outbound.is_plain_url(url):
        raise BadRequest("response_url must be an http(s) URL.")
    return url


def _state(states: StateCodec, context: dict[str, Any]) -> dict[str, Any]:
    try:
        state = states.decode(str(context.get("state", "")))
        checked: dict[str, Any] = {k: str(state[k]) for k in ("w", "i", "n", "r")}
        checked.update(p=int(state["p"]), x=int(state["x"]))
    except (InvalidState, KeyError, TypeError, ValueError):
        raise BadRequest("The button's context was not issued by this server.") from None
    if checked["x"] < time.time():
        raise BadRequest("This preview has expired; run /reaction again.")
    return checked


async def action(chat: Chat, body: bytes) -> Message:
    """A click on Send, Next or Cancel: the answer updates the preview."""
    payload = parse_json(body)
    context = nested(payload, "context")
    state = _state(chat.states, context)
    team, user = id_field(payload, "team_id"), id_field(payload, "user_id")
    await admission.admit(chat.session, _replay_key(payload), f"mattermost:{team}", chat.per_minute)
    chosen = context.get("action")
    log.info("integrations.mattermost.action", team_id=team, user_id=user, action=chosen)
    if chosen == "cancel":
        return {"update": {"message": "Cancelled.", "props": {"attachments": []}}}
    if chosen == "next":
        words, position = state["w"], state["p"] + 1
        match = await chat.find(words, position)
        if match is None:
            return {"update": {"message": previews.no_more_sentence(words), "props": {}}}
        attachment = _attachment(match, chat, state["r"])
        return {"update": {"message": "", "props": {"attachments": [attachment]}}}
    if chosen == "send":
        return await _send(chat, state, team, user)
    raise BadRequest("Unknown action.")


async def _send(chat: Chat, state: dict[str, Any], team: str, user: str) -> Message:
    if not await admission.remember(
        chat.session, f"mattermost-send:{state['n']}", f"mattermost:{team}"
    ):
        raise Duplicate("This reaction was already sent.")
    sent = await chat.send(state["i"], state["w"])
    if sent is None:
        return {"update": {"message": previews.GONE_SENTENCE, "props": {}}}
    await outbound.post_json(state["r"], _posted(sent, user))
    log.info("integrations.mattermost.sent", team_id=team, user_id=user, image_id=sent.image_id)
    return {"update": {"message": "Sent.", "props": {"attachments": []}}}
