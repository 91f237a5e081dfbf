"""Chat-app contract helpers: requests signed exactly as Slack and Discord sign
them, payloads shaped as the apps document them, and a recording HTTP server
on 127.0.0.1 that stands in for Slack's response_url and Discord's API."""

from __future__ import annotations

import base64
import io
import json
import random
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image as PILImage

from app.integrations.signatures import slack_signature


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """What was sent to the stand-in chat app; `status` is what it answers."""

    base_url: str = ""
    status: int = 200
    answer: dict[str, Any] = field(default_factory=lambda: {"id": "1049111111111111111"})
    requests: list[Recorded] = field(default_factory=list)

    def clear(self) -> None:
        self.requests.clear()
        self.status = 200


@contextmanager
def recording_server() -> Iterator[Recorder]:
    """A real HTTP server on a free loopback port, stopped when the block ends."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            recorder.requests.append(Recorded(self.command, self.path, headers, body))
            payload = json.dumps(recorder.answer).encode()
            self.send_response(recorder.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_PATCH = do_PUT = _record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- Slack -----------------------------------------------------------------


def slack_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": slack_signature(secret, stamp, body),
    }


def slack_command(text: str, response_url: str, **extra: str) -> bytes:
    """A slash command as Slack posts it (the fields of Slack's documented example)."""
    fields = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": "T0001",
        "team_domain": "example",
        "enterprise_id": "E0001",
        "enterprise_name": "Globular%20Construct%20Inc",
        "channel_id": "C2147483705",
        "channel_name": "test",
        "user_id": "U2147483697",
        "user_name": "Steve",
        "command": "/reaction",
        "text": text,
        "response_url": response_url,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "api_app_id": "A123456",
    }
    return urlencode({**fields, **extra}).encode()


def slack_block_actions(
    action_id: str, value: str, response_url: str, ts: str = "1548426417.840180"
) -> bytes:
    """A button click as Slack posts it: the form field `payload`, a JSON block_actions."""
    payload = {
        "type": "block_actions",
        "user": {"id": "U2147483697", "username": "steve", "name": "steve", "team_id": "T0001"},
        "api_app_id": "A123456",
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "container": {"type": "message", "message_ts": "1548426417.840180", "is_ephemeral": True},
        "trigger_id": "12466734323.1395872398.b4f2c4c5f7c3a6e1b3e1",
        "team": {"id": "T0001", "domain": "example"},
        "channel": {"id": "C2147483705", "name": "test"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "Bx1",
                "text": {"type": "plain_text", "text": action_id.title(), "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": ts,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


# --- Mattermost ------------------------------------------------------------


def trigger() -> str:
    """A trigger_id shaped as Mattermost makes them: base64 of
    `<id>:<user id>:<millis>:<base64 signature>` (so with `+`, `/` and `=`)."""
    raw = f"{secrets.token_hex(13)}:rnina9994bde8mua79zqcg5hmo:{time.time_ns() // 10**6}:"
    return base64.b64encode(raw.encode() + secrets.token_bytes(72)).decode()


def mattermost_command(
    text: str, token: str, response_url: str, trigger_id: str = ""
) -> dict[str, str]:
    """A slash command as Mattermost posts it (its documented fields)."""
    return {
        "channel_id": "fukxanjgjbnp7ng383at53k1sy",
        "channel_name": "town-square",
        "command": "/reaction",
        "response_url": response_url,
        "team_domain": "someteam",
        "team_id": "tgninm2nfjgsdxskz9aghx1x9h",
        "text": text,
        "token": token,
        "trigger_id": trigger_id or trigger(),
        "user_id": "rnina9994bde8mua79zqcg5hmo",
        "user_name": "somename",
    }


def mattermost_action(context: dict[str, Any], trigger_id: str = "") -> dict[str, Any]:
    """A button click as the Mattermost server posts it to the integration URL."""
    return {
        "user_id": "rnina9994bde8mua79zqcg5hmo",
        "user_name": "somename",
        "channel_id": "fukxanjgjbnp7ng383at53k1sy",
        "channel_name": "town-square",
        "team_id": "tgninm2nfjgsdxskz9aghx1x9h",
        "team_domain": "someteam",
        "post_id": "h4bs8ti3mjd8pm7ehxwgqt1n7a",
        "trigger_id": trigger_id or trigger(),
        "type": "",
        "data_source": "",
        "context": context,
    }


# --- Discord ---------------------------------------------------------------


@dataclass
class DiscordKeys:
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def public_hex(self) -> str:
        return self.private.public_key().public_bytes_raw().hex()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.private.sign(stamp.encode() + body).hex()
        return {
            "content-type": "application/json",
            "x-signature-ed25519": signature,
            "x-signature-timestamp": stamp,
        }


DISCORD_APPLICATION_ID = "1011111111111111111"


def discord_interaction(
    kind: int, data: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """An interaction as Discord posts it from a server (guild) channel."""
    interaction: dict[str, Any] = {
        "id": str(time.time_ns()),
        "application_id": DISCORD_APPLICATION_ID,
        "type": kind,
        "token": "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTp0b2tlbg.Zx_9-abc",
        "version": 1,
        "guild_id": "1022222222222222222",
        "channel_id": "1033333333333333333",
        "member": {
            "user": {"id": "1044444444444444444", "username": "steve", "global_name": "Steve"},
            "roles": [],
            "permissions": "2147483647",
        },
        "locale": "en-US",
        "guild_locale": "en-US",
        "app_permissions": "442368",
    }
    if data is not None:
        interaction["data"] = data
    return {**interaction, **extra}


def discord_command_data(words: str, *, focused: bool = False) -> dict[str, Any]:
    option: dict[str, Any] = {"type": 3, "name": "words", "value": words}
    if focused:
        option["focused"] = True
    return {"id": "1055555555555555555", "name": "reaction", "type": 1, "options": [option]}


def noisy_gif(seed: int) -> bytes:
    """An animated GIF of random noise: no two seeds look alike (near-duplicate check)."""
    rng = random.Random(seed)
    frames = []
    for _ in range(2):
        frame = PILImage.new("L", (32, 32))
        frame.putdata([rng.randrange(256) for _ in range(32 * 32)])
        frames.append(frame.convert("P"))
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()
