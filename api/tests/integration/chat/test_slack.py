"""Slack's `/reaction`: requests signed as Slack signs them, answers in Slack's
documented shapes, clicks answered through a real response_url server."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.chat.conftest import SLACK_SECRET, remembered, share_counts
from tests.integration.chat.helpers import (
    Recorder,
    noisy_gif,
    slack_block_actions,
    slack_command,
    slack_headers,
)
from tests.integration.helpers import create_image, webp_bytes

COMMANDS = "/integrations/slack/commands"
INTERACTIONS = "/integrations/slack/interactions"


def response_url(recorder: Recorder) -> str:
    return recorder.base_url + "/slack/commands/T0001/1234567890/abcdefABCDEF"


async def command(chat: httpx.AsyncClient, recorder: Recorder, text: str) -> httpx.Response:
    body = slack_command(text, response_url(recorder))
    return await chat.post(COMMANDS, content=body, headers=slack_headers(SLACK_SECRET, body))


async def click(
    chat: httpx.AsyncClient, recorder: Recorder, action: str, value: str, ts: str = "1.1"
) -> httpx.Response:
    body = slack_block_actions(action, value, response_url(recorder), ts)
    return await chat.post(INTERACTIONS, content=body, headers=slack_headers(SLACK_SECRET, body))


def assert_preview(answer: dict[str, Any], image: dict[str, Any]) -> str:
    """Slack's documented shape: ephemeral, an image block, an actions block; the button value."""
    direct = f"http://testserver/f/{image['id']}.gif"
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == direct
    picture, actions = answer["blocks"]
    assert picture == {
        "type": "image",
        "image_url": direct,
        "alt_text": image["title"],
        "title": {"type": "plain_text", "text": image["title"]},
    }
    assert actions["type"] == "actions"
    assert [b["action_id"] for b in actions["elements"]] == ["send", "next", "cancel"]
    assert [b["text"] for b in actions["elements"]] == [
        {"type": "plain_text", "text": label} for label in ("Send", "Next", "Cancel")
    ]
    assert all(b["type"] == "button" and len(b["value"]) <= 2000 for b in actions["elements"])
    value: str = actions["elements"][0]["value"]
    return value


@pytest.fixture
async def two_cats(owner: httpx.AsyncClient) -> list[dict[str, Any]]:
    first = await create_image(owner, noisy_gif(1), title="cat typing furiously", tags="cat,typing")
    second = await create_image(owner, noisy_gif(2), title="cat falls off table", tags="cat")
    return [first, second]


async def test_command_answers_an_ephemeral_preview_of_the_best_match(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: list[dict[str, Any]]
) -> None:
    response = await command(chat, recorder, "typing cat")
    assert response.status_code == 200, response.text
    assert_preview(response.json(), two_cats[0])
    assert set((await share_counts(chat_app)).values()) == {0}  # a preview is not a share
    assert recorder.requests == []


async def test_no_match_is_an_ephemeral_sentence(
    chat: httpx.AsyncClient, recorder: Recorder, two_cats: Any
) -> None:
    response = await command(chat, recorder, "submarine")
    assert response.json() == {
        "response_type": "ephemeral",
        "text": "No reaction matches “submarine”.",
    }


async def test_send_posts_in_channel_once_and_counts_one_share(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: list[dict[str, Any]]
) -> None:
    value = assert_preview((await command(chat, recorder, "typing")).json(), two_cats[0])
    response = await click(chat, recorder, "send", value)
    assert response.status_code == 200, response.text
    posted, removed = recorder.requests
    assert posted.path == "/slack/commands/T0001/1234567890/abcdefABCDEF"
    message = posted.json()
    assert message["response_type"] == "in_channel"
    assert message["replace_original"] is False
    assert message["text"] == f"http://testserver/f/{two_cats[0]['id']}.gif"
    assert message["blocks"][0]["image_url"] == message["text"]
    assert "<@U2147483697>" in message["blocks"][1]["elements"][0]["text"]
    assert removed.json() == {"delete_original": True}
    assert (await share_counts(chat_app))[two_cats[0]["id"]] == 1
    # The same click replayed, and a second click on the same preview: refused.
    body = slack_block_actions("send", value, response_url(recorder), "1.1")
    replay = await chat.post(INTERACTIONS, content=body, headers=slack_headers(SLACK_SECRET, body))
    assert replay.status_code == 409
    again = await click(chat, recorder, "send", value, ts="2.2")
    assert again.status_code == 409
    assert len(recorder.requests) == 2
    assert (await share_counts(chat_app))[two_cats[0]["id"]] == 1


async def test_next_replaces_the_preview_with_the_next_match_then_says_no_more(
    chat: httpx.AsyncClient, recorder: Recorder, two_cats: list[dict[str, Any]]
) -> None:
    first = (await command(chat, recorder, "cat")).json()
    shown = first["blocks"][0]["image_url"]
    value = first["blocks"][1]["elements"][1]["value"]
    assert (await click(chat, recorder, "next", value)).status_code == 200
    replaced = recorder.requests[-1].json()
    assert replaced["replace_original"] is True
    assert replaced["response_type"] == "ephemeral"
    other = replaced["blocks"][0]["image_url"]
    assert {shown, other} == {f"http://testserver/f/{image['id']}.gif" for image in two_cats}
    last_value = replaced["blocks"][1]["elements"][1]["value"]
    assert (await click(chat, recorder, "next", last_value, ts="3.3")).status_code == 200
    assert recorder.requests[-1].json() == {
        "response_type": "ephemeral",
        "text": "No more reactions match “cat”.",
        "replace_original": True,
    }


async def test_cancel_deletes_the_preview(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: Any
) -> None:
    value = (await command(chat, recorder, "cat")).json()["blocks"][1]["elements"][2]["value"]
    assert (await click(chat, recorder, "cancel", value)).status_code == 200
    assert [r.json() for r in recorder.requests] == [{"delete_original": True}]
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_a_chat_app_that_cannot_be_reached_leaves_the_share_uncounted(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: list[dict[str, Any]]
) -> None:
    value = (await command(chat, recorder, "typing")).json()["blocks"][1]["elements"][0]["value"]
    recorder.status = 500
    response = await click(chat, recorder, "send", value)
    assert response.status_code == 502
    assert set((await share_counts(chat_app)).values()) == {0}


REFUSED: list[tuple[str, Any]] = [
    ("unsigned", lambda body: {"content-type": "application/x-www-form-urlencoded"}),
    ("wrong secret", lambda body: slack_headers("another-secret", body)),
    ("stale", lambda body: slack_headers(SLACK_SECRET, body, int(time.time()) - 301)),
    ("from the future", lambda body: slack_headers(SLACK_SECRET, body, int(time.time()) + 301)),
    ("tampered", lambda body: slack_headers(SLACK_SECRET, body.replace(b"cat", b"dog"))),
]


@pytest.mark.parametrize(("why", "headers"), REFUSED, ids=[why for why, _ in REFUSED])
@pytest.mark.parametrize("path", [COMMANDS, INTERACTIONS])
async def test_unproven_requests_are_401_and_change_nothing(
    chat: httpx.AsyncClient,
    recorder: Recorder,
    chat_app: FastAPI,
    two_cats: Any,
    why: str,
    headers: Any,
    path: str,
) -> None:
    body = slack_command("cat", response_url(recorder))
    response = await chat.post(path, content=body, headers=headers(body))
    assert response.status_code == 401, why
    assert response.json()["detail"]
    assert await remembered(chat_app) == 0
    assert recorder.requests == []
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_a_replayed_command_is_refused(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: Any
) -> None:
    body = slack_command("cat", response_url(recorder))
    headers = slack_headers(SLACK_SECRET, body)
    assert (await chat.post(COMMANDS, content=body, headers=headers)).status_code == 200
    replay = await chat.post(COMMANDS, content=body, headers=headers)
    assert replay.status_code == 409
    assert await remembered(chat_app) == 1


MALFORMED: list[tuple[str, str, bytes]] = [
    ("not utf-8", COMMANDS, b"team_id=T1&user_id=U1&text=\xff\xfe"),
    ("no team", COMMANDS, b"user_id=U1&text=cat"),
    ("odd team id", COMMANDS, b"team_id=T%00&user_id=U1&text=cat"),
    ("no payload", INTERACTIONS, b"team_id=T1"),
    ("payload not json", INTERACTIONS, b"payload=%7Bnot+json"),
    ("payload a list", INTERACTIONS, b"payload=%5B1%5D"),
    ("not block_actions", INTERACTIONS, b"payload=%7B%22type%22%3A%22view_submission%22%7D"),
]


@pytest.mark.parametrize(("why", "path", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_signed_bodies_are_400_and_change_nothing(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, why: str, path: str, body: bytes
) -> None:
    response = await chat.post(path, content=body, headers=slack_headers(SLACK_SECRET, body))
    assert response.status_code == 400, (why, response.text)
    assert await remembered(chat_app) == 0
    assert recorder.requests == []


async def test_a_forged_button_value_or_foreign_response_url_is_400(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: list[dict[str, Any]]
) -> None:
    forged = await click(chat, recorder, "send", json.dumps({"i": two_cats[0]["id"]}))
    assert forged.status_code == 400
    value = (await command(chat, recorder, "cat")).json()["blocks"][1]["elements"][0]["value"]
    body = slack_block_actions("send", value, "http://127.0.0.1:9/elsewhere")
    elsewhere = await chat.post(
        INTERACTIONS, content=body, headers=slack_headers(SLACK_SECRET, body)
    )
    assert elsewhere.status_code == 400
    assert recorder.requests == []
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_an_oversized_body_is_413_and_changes_nothing(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI
) -> None:
    body = slack_command("cat " * 20_000, response_url(recorder))
    response = await chat.post(COMMANDS, content=body, headers=slack_headers(SLACK_SECRET, body))
    assert response.status_code == 413
    assert await remembered(chat_app) == 0


async def test_odd_text_is_searched_without_a_500(
    chat: httpx.AsyncClient, recorder: Recorder, two_cats: Any
) -> None:
    for text in ("cat\x00", "🐈 cat", "'; DROP TABLE images; --", "%", "x" * 3000):
        body = slack_command("", response_url(recorder)).replace(
            b"text=&", b"text=" + _quote(text) + b"&"
        )
        response = await chat.post(
            COMMANDS, content=body, headers=slack_headers(SLACK_SECRET, body)
        )
        assert response.status_code == 200, (text, response.text)
        assert response.json()["response_type"] == "ephemeral"


def _quote(text: str) -> bytes:
    from urllib.parse import quote

    return quote(text.encode("utf-8", "surrogatepass")).encode()


async def test_the_workspace_rate_is_bounded(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: Any
) -> None:
    settings = chat_app.state.settings
    chat_app.state.settings = settings.model_copy(update={"integrations_requests_per_minute": 2})
    try:
        statuses = [(await command(chat, recorder, f"cat {n}")).status_code for n in range(3)]
    finally:
        chat_app.state.settings = settings
    assert statuses == [200, 200, 429]
    assert await remembered(chat_app) == 2  # the refused one left no row


async def test_off_until_the_signing_secret_is_set(client: httpx.AsyncClient) -> None:
    body = slack_command("cat", "https://hooks.slack.com/commands/T0001/1/x")
    response = await client.post(COMMANDS, content=body, headers=slack_headers(SLACK_SECRET, body))
    assert response.status_code == 404
    assert "SLACK_SIGNING_SECRET" in response.json()["detail"]


async def test_the_log_says_who_asked_and_never_the_secret(
    chat: httpx.AsyncClient, recorder: Recorder, two_cats: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert (await command(chat, recorder, "cat")).status_code == 200
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    (asked,) = [line for line in lines if line["event"] == "integrations.slack.command"]
    assert (asked["team_id"], asked["user_id"]) == ("T0001", "U2147483697")
    assert SLACK_SECRET not in err


async def test_odd_payloads_are_never_a_500(
    chat: httpx.AsyncClient, recorder: Recorder, chat_app: FastAPI, two_cats: Any
) -> None:
    value = (await command(chat, recorder, "cat")).json()["blocks"][1]["elements"][0]["value"]
    weird_urls = [response_url(recorder) + "\ud800", response_url(recorder) + " x", "\x00"]
    for url in weird_urls:
        body = slack_block_actions("send", value, url)
        answer = await chat.post(
            INTERACTIONS, content=body, headers=slack_headers(SLACK_SECRET, body)
        )
        assert answer.status_code == 400, answer.text
    deep = b"payload=" + b"%5B" * 10_000
    answer = await chat.post(INTERACTIONS, content=deep, headers=slack_headers(SLACK_SECRET, deep))
    assert answer.status_code == 400
    assert recorder.requests == []
    assert set((await share_counts(chat_app)).values()) == {0}


async def test_a_webp_without_its_gif_rendition_is_shown_as_a_link(
    chat: httpx.AsyncClient, recorder: Recorder, owner: httpx.AsyncClient
) -> None:
    # Slack's image block takes GIF, PNG and JPEG only: a WebP would fail the whole message.
    image = await create_image(owner, webp_bytes(5), title="webp wave", tags="wave")
    answer = (await command(chat, recorder, "wave")).json()
    direct = f"http://testserver/f/{image['id']}.webp"
    assert answer["text"] == direct
    assert answer["blocks"][0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"<{direct}|webp wave>"},
    }
    assert answer["blocks"][1]["type"] == "actions"
