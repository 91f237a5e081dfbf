"""Slack: the `/reaction` slash command and its buttons (Block Kit).

The command answers in its own response (Slack waits 3 s) with an ephemeral
preview; a button click arrives at the interactivity URL and is answered
through the click's `response_url`, as Slack asks for `block_actions`."""

from __future__ import annotations

from typing import Any

import structlog

from app.errors import BadRequest, Duplicate
from app.integrations import admission, outbound, previews
from app.integrations.payloads import id_field, nested, parse_json, text_field
from app.integrations.previews import Chat, Match
from app.integrations.state import InvalidState, StateCodec

log = structlog.get_logger()
Message = dict[str, Any]


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _image_block(match: Match) -> dict[str, Any]:
    """The picture, or (a WebP whose GIF rendition is not made yet) its title and link."""
    if match.picture_url is None:
        text = f"<{match.url}|{match.alt_text[:200]}>"
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return {
        "type": "image",
        "image_url": match.picture_url,
        "alt_text": match.alt_text[:2000],
        "title": {"type": "plain_text", "text": match.alt_text[:2000]},
    }


def preview(match: Match, states: StateCodec) -> Message:
    """The ephemeral preview: the image, its direct link, Send / Next / Cancel."""
    state = {"w": match.words, "p": match.position, "i": match.image_id, "n": previews.new_nonce()}
    value = states.encode(state)
    buttons = [
        _button("Send", "send", value, "primary"),
        _button("Next", "next", value),
        _button("Cancel", "cancel", value),
    ]
    return {
        "response_type": "ephemeral",
        "text": match.url,
        "blocks": [_image_block(match), {"type": "actions", "elements": buttons}],
    }


def sentence(text: str) -> Message:
    return {"response_type": "ephemeral", "text": text}


async def command(chat: Chat, fields: dict[str, str], key: str) -> Message:
    """The slash command's immediate answer."""
    team, user = id_field(fields, "team_id"), id_field(fields, "user_id")
    words = previews.clean_words(text_field(fields, "text", required=False))
    await admission.admit(chat.session, key, f"slack:{team}", chat.per_minute)
    log.info("integrations.slack.command", team_id=team, user_id=user, words=words)
    match = await chat.find(words)
    return preview(match, chat.states) if match else sentence(previews.no_match_sentence(words))


def _state(states: StateCodec, value: Any) -> dict[str, Any]:
    try:
        state = states.decode(value if isinstance(value, str) else "")
        return {
            "w": str(state["w"]),
            "p": int(state["p"]),
            "i": str(state["i"]),
            "n": str(state["n"]),
        }
    except (InvalidState, KeyError, TypeError, ValueError):
        raise BadRequest("The button's value was not issued by this server.") from None


async def interaction(chat: Chat, payload_text: str, key: str) -> None:
    """A click on Send, Next or Cancel, answered through its response_url."""
    payload = parse_json(payload_text, "payload")
    if payload.get("type") != "block_actions":
        raise BadRequest("Only block_actions interactions are handled.")
    user_fields = nested(payload, "user")
    # `team` is null for an app installed on a whole Enterprise Grid org.
    team_fields = payload["team"] if isinstance(payload.get("team"), dict) else None
    team = id_field(team_fields, "id") if team_fields else id_field(user_fields, "team_id")
    user = id_field(user_fields, "id")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise BadRequest("The field actions is missing or empty.")
    action = text_field(actions[0], "action_id")
    state = _state(chat.states, actions[0].get("value"))
    url = outbound.check_under(
        text_field(payload, "response_url"), chat.settings.slack_response_url_base
    )
    await admission.admit(chat.session, key, f"slack:{team}", chat.per_minute)
    log.info("integrations.slack.action", team_id=team, user_id=user, action=action)
    if action == "cancel":
        await outbound.post_json(url, {"delete_original": True})
    elif action == "next":
        await _next(chat, url, state)
    elif action == "send":
        await _send(chat, url, state, team, user)
    else:
        raise BadRequest("Unknown action.")


async def _next(chat: Chat, url: str, state: dict[str, Any]) -> None:
    words, position = state["w"], state["p"] + 1
    match = await chat.find(words, position)
    message = preview(match, chat.states) if match else sentence(previews.no_more_sentence(words))
    await outbound.post_json(url, {**message, "replace_original": True})


async def _send(
    chat: Chat,
    url: str,
    state: dict[str, Any],
    team: str,
    user: str,
) -> None:
    if not await admission.remember(chat.session, f"slack-send:{state['n']}", f"slack:{team}"):
        raise Duplicate("This reaction was already sent.")
    image = await chat.send(state["i"], state["w"])
    if image is None:
        gone = sentence(previews.GONE_SENTENCE)
        await outbound.post_json(url, {**gone, "replace_original": True})
        return
    posted = {
        "response_type": "in_channel",
        "replace_original": False,
        "text": image.url,
        "blocks": [
            _image_block(image),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"sent by <@{user}>"}]},
        ],
    }
    await outbound.post_json(url, posted)
    log.info("integrations.slack.sent", team_id=team, user_id=user, image_id=image.image_id)
    # The preview goes once the reaction is in the channel; failing that is harmless.
    try:
        await outbound.post_json(url, {"delete_original": True})
    except outbound.Unreachable:
        log.info("integrations.slack.preview_left", team_id=team)
