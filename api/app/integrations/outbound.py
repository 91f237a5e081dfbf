"""Calls to the chat apps (Slack's response_url, Mattermost's, Discord's API).

Only to a URL under the configured base: a response_url arrives in a request,
and must never make this server call anywhere else (SSRF)."""

from __future__ import annotations

import re
import ssl
from functools import cache
from typing import Any

import certifi
import httpx
import structlog

from app.errors import BadRequest, ReactbinError

log = structlog.get_logger()
# Slack waits 3 s for the interaction's answer; the call back must fit inside.
TIMEOUT_SECONDS = 2.5
_PLAIN = re.compile(r"^[\x21-\x7e]{1,2000}$")


class Unreachable(ReactbinError):
    status_code = 502


@cache
def _tls() -> ssl.SSLContext:
    """Built once: a new client would load the CA bundle again (~50 ms a call here)."""
    return ssl.create_default_context(cafile=certifi.where())


def is_plain_url(url: str) -> bool:
    """http(s), printable ASCII only: nothing an HTTP client could choke on."""
    return url.startswith(("https://", "http://")) and _PLAIN.match(url) is not None


def check_under(url: str, base: str) -> str:
    """The URL, when it is under `base` (scheme, host and path prefix); else a 400."""
    if not base or not is_plain_url(url) or not url.startswith(base.rstrip("/") + "/"):
        raise BadRequest("response_url does not lead to the chat app.")
    return url


async def post_json(
    url: str, body: dict[str, Any], *, headers: dict[str, str] | None = None, method: str = "POST"
) -> httpx.Response:
    """Sends the JSON; a network failure or a 4xx/5xx answer is a 502 for the caller."""
    try:
        async with httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=_tls()
        ) as client:
            response = await client.request(method, url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("integrations.outbound_failed", error=type(exc).__name__)
        raise Unreachable("The chat app could not be reached; try again.") from None
    if response.status_code >= 400:
        log.warning("integrations.outbound_refused", status=response.status_code)
        raise Unreachable("The chat app refused the message; try again.")
    return response
