"""Discord's `/reaction`: interactions signed with an Ed25519 key made here, the
documented interaction and response shapes, follow-ups and `discord register`
sent to a real recording server standing in for Discord's API."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from tests.integration.chat.conftest import remembered, share_counts
from tests.integration.chat.helpers import (
    DISCORD_APPLICATION_ID,
    DiscordKeys,
    Recorder,
    discord_command_data,
    discord_interaction,
    noisy_gif,
)
from tests.integration.helpers import create_image

INTERACTIONS = "/integrations/discord/interactions"


@pytest.fixture
async def two_cats(owner: httpx.AsyncClient) -> list[dict[str, Any]]:
    first = await create_image(
        owner, noisy_gif(21), title="cat typing furiously", tags="cat,typing"
    )
    second = await create_image(owner, noisy_gif(22), title="cat falls off table", tags="cat")
    return [first, second]


async def interact(
    chat: httpx.AsyncClient, keys: DiscordKeys, interaction: dict[str, Any]
) -> httpx.Response:
    body = json.dumps(interaction).encode()
    return await chat.post(INTERACTIONS, content=body, headers=keys.headers(body))


async def test_ping_is_answered_with_pong(
    chat: httpx.AsyncClient, discord_keys: DiscordKeys
) -> None:
    ping = {
        "id": "1",
        "application_id": DISCORD_APPLICATION_ID,
        "type": 1,
        "token": "t",
        "version": 1,
    }
    response = await interact(chat, discord_keys, ping)
    assert response.status_code == 200
    assert response.json() == {"type": 1}


async def test_the_command_answers_an_ephemeral_preview_with_send_and_next(
    chat: httpx.AsyncClient,
    discord_keys: DiscordKeys,
    chat_app: FastAPI,
    two_cats: list[dict[str, Any]],
) -> None:
    response = await interact(
        chat, discord_keys, discord_interaction(2, discord_command_data("typing"))
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    direct = f"http://testserver/f/{two_cats[0]['id']}.gif"
    assert answer["type"] == 4  # CHANNEL_MESSAGE_WITH_SOURCE
    data = answer["data"]
    assert data["flags"] == 64  # EPHEMERAL
    assert data["content"] == direct
    assert data["embeds"] == [{"title": "cat typing furiously", "image": {"url": direct}}]
    (row,) = data["components"]
    assert row["type"] == 1
    assert [(b["type"], b["label"]) for b in row["components"]] == [(2, "Send"), (2, "Next")]
    assert all(len(b["custom_id"]) <= 100 for b in row["components"])
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_send_updates_the_preview_and_follows_up_in_the_channel_once(
    chat: httpx.AsyncClient,
    discord_keys: DiscordKeys,
    recorder: Recorder,
    chat_app: FastAPI,
    two_cats: list[dict[str, Any]],
) -> None:
    preview = await interact(
        chat, discord_keys, discord_interaction(2, discord_command_data("typing"))
    )
    send_id = preview.json()["data"]["components"][0]["components"][0]["custom_id"]
    message = {"id": "1066666666666666666", "flags": 64, "content": "..."}
    click = discord_interaction(3, {"custom_id": send_id, "component_type": 2}, message=message)
    response = await interact(chat, discord_keys, click)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "type": 7,
        "data": {"content": "Sent.", "embeds": [], "components": []},
    }
    (follow_up,) = recorder.requests
    assert follow_up.method == "POST"
    assert follow_up.path == f"/api/v10/webhooks/{DISCORD_APPLICATION_ID}/{click['token']}"
    assert follow_up.json() == {"content": f"http://testserver/f/{two_cats[0]['id']}.gif"}
    assert (await share_counts(chat_app))[two_cats[0]["id"]] == 1
    replay = await interact(chat, discord_keys, click)  # the same body, signed again
    assert replay.status_code == 409
    second = discord_interaction(3, {"custom_id": send_id, "component_type": 2}, message=message)
    assert (await interact(chat, discord_keys, second)).status_code == 409
    assert len(recorder.requests) == 1
    assert (await share_counts(chat_app))[two_cats[0]["id"]] == 1


async def test_next_updates_the_preview_then_says_no_more(
    chat: httpx.AsyncClient, discord_keys: DiscordKeys, two_cats: list[dict[str, Any]]
) -> None:
    first = (
        await interact(chat, discord_keys, discord_interaction(2, discord_command_data("cat")))
    ).json()
    next_id = first["data"]["components"][0]["components"][1]["custom_id"]
    message = {"id": "1077777777777777777", "flags": 64}
    click = discord_interaction(3, {"custom_id": next_id, "component_type": 2}, message=message)
    answer = (await interact(chat, discord_keys, click)).json()
    assert answer["type"] == 7
    shown = {first["data"]["content"], answer["data"]["content"]}
    assert shown == {f"http://testserver/f/{image['id']}.gif" for image in two_cats}
    last_id = answer["data"]["components"][0]["components"][1]["custom_id"]
    click = discord_interaction(3, {"custom_id": last_id, "component_type": 2}, message=message)
    done = (await interact(chat, discord_keys, click)).json()
    assert done["data"]["content"] == "No more reactions match “cat”."
    assert done["data"]["components"] == []


async def test_autocomplete_offers_tags_and_titles_of_the_library(
    chat: httpx.AsyncClient, discord_keys: DiscordKeys, two_cats: Any
) -> None:
    typing = discord_interaction(4, discord_command_data("typ", focused=True))
    answer = (await interact(chat, discord_keys, typing)).json()
    assert answer["type"] == 8
    choices = answer["data"]["choices"]
    assert {"name": "typing", "value": "typing"} in choices
    assert len(choices) <= 25
    assert all(1 <= len(c["name"]) <= 100 and c["name"] == c["value"] for c in choices)
    titles = (
        await interact(
            chat, discord_keys, discord_interaction(4, discord_command_data("cat", focused=True))
        )
    ).json()
    assert "cat typing furiously" in [c["value"] for c in titles["data"]["choices"]]


async def test_no_match_is_an_ephemeral_sentence(
    chat: httpx.AsyncClient, discord_keys: DiscordKeys, two_cats: Any
) -> None:
    answer = (
        await interact(
            chat, discord_keys, discord_interaction(2, discord_command_data("submarine"))
        )
    ).json()
    assert answer["type"] == 4
    assert answer["data"]["flags"] == 64
    assert answer["data"]["content"] == "No reaction matches “submarine”."


def _signed_by_another_key(body: bytes) -> dict[str, str]:
    return DiscordKeys().headers(body)


REFUSED: list[tuple[str, Any]] = [
    ("unsigned", lambda keys, body: {"content-type": "application/json"}),
    ("another key", lambda keys, body: _signed_by_another_key(body)),
    ("stale", lambda keys, body: keys.headers(body, int(time.time()) - 301)),
    ("tampered", lambda keys, body: keys.headers(body + b" ")),
    ("not hex", lambda keys, body: {**keys.headers(body), "x-signature-ed25519": "zz"}),
]


@pytest.mark.parametrize(("why", "headers"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_unproven_interactions_are_401_and_change_nothing(
    chat: httpx.AsyncClient,
    discord_keys: DiscordKeys,
    recorder: Recorder,
    chat_app: FastAPI,
    two_cats: list[dict[str, Any]],
    why: str,
    headers: Any,
) -> None:
    click = discord_interaction(
        3, {"custom_id": f"s:{two_cats[0]['id']}", "component_type": 2}, message={"id": "1"}
    )
    body = json.dumps(click).encode()
    response = await chat.post(INTERACTIONS, content=body, headers=headers(discord_keys, body))
    assert response.status_code == 401, why
    assert await remembered(chat_app) == 0
    assert recorder.requests == []
    assert set((await share_counts(chat_app)).values()) == {0}


MALFORMED: list[tuple[str, bytes]] = [
    ("not json", b"{nope"),
    ("a list", b"[1]"),
    ("unknown type", b'{"type": 99}'),
    ("no member or user", b'{"type": 2, "id": "5", "data": {}}'),
    (
        "odd custom_id",
        json.dumps(discord_interaction(3, {"custom_id": "x:y"}, message={"id": "9"})).encode(),
    ),
    (
        "odd token",
        json.dumps(
            discord_interaction(3, {"custom_id": "s:AAAAAAAAAA"}, message={"id": "9"}, token="../x")
        ).encode(),
    ),
]


@pytest.mark.parametrize(("why", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_signed_interactions_are_400_and_change_nothing(
    chat: httpx.AsyncClient,
    discord_keys: DiscordKeys,
    recorder: Recorder,
    chat_app: FastAPI,
    why: str,
    body: bytes,
) -> None:
    response = await chat.post(INTERACTIONS, content=body, headers=discord_keys.headers(body))
    assert response.status_code == 400, response.text
    assert await remembered(chat_app) == 0
    assert recorder.requests == []


async def test_an_oversized_interaction_is_413(
    chat: httpx.AsyncClient, discord_keys: DiscordKeys
) -> None:
    body = json.dumps(discord_interaction(2, discord_command_data("x" * 70_000))).encode()
    response = await chat.post(INTERACTIONS, content=body, headers=discord_keys.headers(body))
    assert response.status_code == 413


async def test_off_until_the_public_key_is_set(
    client: httpx.AsyncClient, discord_keys: DiscordKeys
) -> None:
    body = b'{"type": 1}'
    response = await client.post(INTERACTIONS, content=body, headers=discord_keys.headers(body))
    assert response.status_code == 404
    assert "DISCORD_PUBLIC_KEY" in response.json()["detail"]


def test_register_creates_the_command_through_discords_api(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import cli

    recorder.clear()
    monkeypatch.setenv("DISCORD_API_BASE_URL", recorder.base_url + "/api/v10")
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "bot-token-made-in-the-test")
    result = CliRunner().invoke(
        cli, ["discord", "register", "--application-id", DISCORD_APPLICATION_ID]
    )
    assert result.exit_code == 0, result.output
    assert "registered /reaction" in result.output
    (call,) = recorder.requests
    assert call.method == "POST"
    assert call.path == f"/api/v10/applications/{DISCORD_APPLICATION_ID}/commands"
    assert call.headers["authorization"] == "Bot bot-token-made-in-the-test"
    command = call.json()
    assert command["name"] == "reaction"
    assert command["type"] == 1
    (option,) = command["options"]
    assert (option["type"], option["autocomplete"], option["required"]) == (3, True, True)


def test_register_says_when_discord_refuses(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import cli

    recorder.clear()
    recorder.status = 401
    monkeypatch.setenv("DISCORD_API_BASE_URL", recorder.base_url + "/api/v10")
    result = CliRunner().invoke(
        cli,
        ["discord", "register", "--application-id", DISCORD_APPLICATION_ID, "--bot-token", "wrong"],
    )
    recorder.status = 200
    assert result.exit_code == 1
    assert "did not register" in result.output


async def test_odd_characters_anywhere_are_never_a_500(
    chat: httpx.AsyncClient, discord_keys: DiscordKeys, two_cats: Any
) -> None:
    message = {"id": "1088888888888888888"}
    odd = [
        discord_interaction(2, discord_command_data("cat\x00\ud800 \u202e🐈")),
        discord_interaction(4, discord_command_data("\ud83d", focused=True)),
        discord_interaction(3, {"custom_id": "n:0:cat\ud800\x00"}, message=message),
        discord_interaction(3, {"custom_id": "n:99999999999999999999:cat"}, message=message),
        discord_interaction(3, {"custom_id": "s:\ud800"}, message={"id": "1099999999999999999"}),
        discord_interaction(2, {"name": "reaction", "options": [{"name": "words", "value": 5}]}),
        discord_interaction(2, {"name": "reaction", "options": "words"}),
        discord_interaction(2, discord_command_data("cat"), guild_id=True),
        discord_interaction(2, discord_command_data("cat"), member={"user": "x"}),
    ]
    for interaction in odd:
        response = await interact(chat, discord_keys, interaction)
        assert response.status_code in (200, 400), (interaction, response.text)
