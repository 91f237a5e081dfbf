"""Mattermost's `/reaction`: the outgoing slash command (token in the form and in
`Authorization: Token`), its interactive-message buttons, and `send=now`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.chat.conftest import MATTERMOST_TOKEN, remembered, share_counts
from tests.integration.chat.helpers import (
    Recorder,
    mattermost_action,
    mattermost_command,
    noisy_gif,
)
from tests.integration.helpers import create_image

COMMANDS = "/integrations/mattermost/commands"
ACTIONS = "/integrations/mattermost/actions"


def response_url(recorder: Recorder) -> str:
    return recorder.base_url + "/hooks/commands/ocjxwhhgt3f9mdxpmnwg4tpm5c"


def headers(token: str = MATTERMOST_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Token {token}", "Accept": "application/json"}


@pytest.fixture
async def two_cats(owner: httpx.AsyncClient) -> list[dict[str, Any]]:
    first = await create_image(owner, noisy_gif(11), title="cat typing furiously", tags="cat")
    second = await create_image(owner, noisy_gif(12), title="cat falls off table", tags="cat")
    return [first, second]


async def preview(chat: httpx.AsyncClient, recorder: Recorder, text: str) -> dict[str, Any]:
    form = mattermost_command(text, MATTERMOST_TOKEN, response_url(recorder))
    response = await chat.post(COMMANDS, data=form, headers=headers())
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def buttons(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {action["id"]: action for action in answer["attachments"][0]["actions"]}


async def test_command_answers_an_ephemeral_preview_with_integration_buttons(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: list[dict[str, Any]]
) -> None:
    answer = await preview(chat, recorder, "typing")
    direct = f"http://testserver/f/{two_cats[0]['id']}.gif"
    assert answer["response_type"] == "ephemeral"
    (attachment,) = answer["attachments"]
    assert attachment["image_url"] == direct
    assert attachment["fallback"] == direct
    assert attachment["title"] == "cat typing furiously"
    assert [a["name"] for a in attachment["actions"]] == ["Send", "Next", "Cancel"]
    for action in attachment["actions"]:
        assert action["type"] == "button"
        assert action["integration"]["url"] == "http://testserver" + ACTIONS
        assert action["integration"]["context"]["action"] == action["id"]
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_send_posts_in_channel_through_response_url_and_counts_a_share(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: list[dict[str, Any]]
) -> None:
    context = buttons(await preview(chat, recorder, "typing"))["send"]["integration"]["context"]
    click = mattermost_action(context, trigger_id="t-send-1")
    response = await chat.post(ACTIONS, json=click)
    assert response.status_code == 200, response.text
    assert response.json() == {"update": {"message": "Sent.", "props": {"attachments": []}}}
    (posted,) = recorder.requests
    assert posted.path == "/hooks/commands/ocjxwhhgt3f9mdxpmnwg4tpm5c"
    assert posted.json()["response_type"] == "in_channel"
    assert posted.json()["text"] == f"http://testserver/f/{two_cats[0]['id']}.gif"
    assert (await share_counts(chat_app))[two_cats[0]["id"]] == 1
    replay = await chat.post(ACTIONS, json=click)
    second_click = await chat.post(ACTIONS, json=mattermost_action(context, trigger_id="t-2"))
    assert (replay.status_code, second_click.status_code) == (409, 409)
    assert len(recorder.requests) == 1
    assert (await share_counts(chat_app))[two_cats[0]["id"]] == 1


async def test_next_and_cancel_update_the_preview(
    chat: httpx.AsyncClient, recorder: Recorder, two_cats: list[dict[str, Any]]
) -> None:
    first = await preview(chat, recorder, "cat")
    shown = first["attachments"][0]["image_url"]
    context = buttons(first)["next"]["integration"]["context"]
    answer = (await chat.post(ACTIONS, json=mattermost_action(context))).json()
    other = answer["update"]["props"]["attachments"][0]["image_url"]
    assert {shown, other} == {f"http://testserver/f/{image['id']}.gif" for image in two_cats}
    cancel = buttons({"attachments": answer["update"]["props"]["attachments"]})["cancel"]
    cancelled = await chat.post(ACTIONS, json=mattermost_action(cancel["integration"]["context"]))
    assert cancelled.json() == {"update": {"message": "Cancelled.", "props": {"attachments": []}}}
    assert recorder.requests == []


async def test_send_now_answers_in_channel_and_counts_a_share(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: list[dict[str, Any]]
) -> None:
    form = mattermost_command("typing", MATTERMOST_TOKEN, response_url(recorder))
    response = await chat.post(COMMANDS + "?send=now", data=form, headers=headers())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["response_type"] == "in_channel"
    assert answer["text"] == f"http://testserver/f/{two_cats[0]['id']}.gif"
    assert (await share_counts(chat_app))[two_cats[0]["id"]] == 1


async def test_no_match_is_an_ephemeral_sentence(
    chat: httpx.AsyncClient, recorder: Recorder, two_cats: Any
) -> None:
    answer = await preview(chat, recorder, "submarine")
    assert answer == {"response_type": "ephemeral", "text": "No reaction matches “submarine”."}


@pytest.mark.parametrize(
    ("form_token", "header"),
    [
        ("wrong", headers()),  # the form's token is wrong
        (MATTERMOST_TOKEN, headers("wrong")),  # the header's token is wrong
        ("wrong", {}),  # only a wrong form token
        (None, {}),  # no token at all
        (None, {"Authorization": f"Bearer {MATTERMOST_TOKEN}"}),  # not the Token scheme
        (MATTERMOST_TOKEN[:-1], {}),  # a prefix of a token
    ],
)
async def test_a_wrong_or_missing_token_is_401_and_changes_nothing(
    chat: httpx.AsyncClient,
    recorder: Recorder,
    chat_app: FastAPI,
    two_cats: Any,
    form_token: str | None,
    header: dict[str, str],
) -> None:
    form: dict[str, str] = mattermost_command("cat", form_token or "", response_url(recorder))
    if form_token is None:
        del form["token"]
    response = await chat.post(COMMANDS + "?send=now", data=form, headers=header)
    assert response.status_code == 401
    assert await remembered(chat_app) == 0
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_either_configured_token_and_either_place_is_accepted(
    chat: httpx.AsyncClient, recorder: Recorder
) -> None:
    only_form = mattermost_command("cat", MATTERMOST_TOKEN, response_url(recorder))
    assert (await chat.post(COMMANDS, data=only_form)).status_code == 200
    only_header = mattermost_command("cat", "", response_url(recorder))
    del only_header["token"]
    other = headers("another-command-token")
    assert (await chat.post(COMMANDS, data=only_header, headers=other)).status_code == 200


async def test_a_replayed_command_is_409(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: Any
) -> None:
    form = mattermost_command("cat", MATTERMOST_TOKEN, response_url(recorder), "trig-1")
    assert (await chat.post(COMMANDS + "?send=now", data=form)).status_code == 200
    assert (await chat.post(COMMANDS + "?send=now", data=form)).status_code == 409
    assert sum((await share_counts(chat_app)).values()) == 1


MALFORMED_ACTIONS: list[tuple[str, bytes]] = [
    ("not json", b"{nope"),
    ("a list", b"[]"),
    ("no context", b'{"team_id": "t1", "user_id": "u1", "trigger_id": "x"}'),
    (
        "forged context",
        b'{"team_id":"t1","user_id":"u1","trigger_id":"x","context":{"action":"send","state":"AAAA"}}',
    ),
    ("huge", b'{"a": "' + b"x" * 70_000 + b'"}'),
]


@pytest.mark.parametrize(("why", "body"), MALFORMED_ACTIONS, ids=[m[0] for m in MALFORMED_ACTIONS])
async def test_malformed_or_forged_clicks_are_refused_and_change_nothing(
    chat: httpx.AsyncClient,
    recorder: Recorder,
    chat_app: FastAPI,
    two_cats: Any,
    why: str,
    body: bytes,
) -> None:
    response = await chat.post(ACTIONS, content=body, headers={"content-type": "application/json"})
    assert response.status_code == (413 if why == "huge" else 400), response.text
    assert await remembered(chat_app) == 0
    assert recorder.requests == []
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_off_until_tokens_are_set(client: httpx.AsyncClient) -> None:
    form = mattermost_command("cat", MATTERMOST_TOKEN, "https://mm.example.org/hooks/commands/x")
    response = await client.post(COMMANDS, data=form, headers=headers())
    assert response.status_code == 404
    assert "MATTERMOST_TOKENS" in response.json()["detail"]


async def test_the_log_says_who_asked_and_never_the_token(
    chat: httpx.AsyncClient, recorder: Recorder, two_cats: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await preview(chat, recorder, "cat")
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    (asked,) = [line for line in lines if line["event"] == "integrations.mattermost.command"]
    assert asked["team_id"] == "tgninm2nfjgsdxskz9aghx1x9h"
    assert asked["user_id"] == "rnina9994bde8mua79zqcg5hmo"
    assert MATTERMOST_TOKEN not in err


@pytest.mark.parametrize("url", ["javascript:alert(1)", "", "https://mm.example.org/hooks/a b"])
async def test_a_preview_needs_an_http_response_url(
    chat: httpx.AsyncClient, chat_app: FastAPI, two_cats: Any, url: str
) -> None:
    form = mattermost_command("cat", MATTERMOST_TOKEN, url)
    response = await chat.post(COMMANDS, data=form)
    assert response.status_code == 400
    assert await remembered(chat_app) == 0
