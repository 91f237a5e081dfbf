"""Proof that a request comes from the chat app: Slack's HMAC, Discord's Ed25519,
Mattermost's token. Checked over the raw body, before anything parses it.

Ed25519 comes from `cryptography` (pinned): it is the maintained binding to
OpenSSL that most Python services already trust, ships wheels for every
platform, and its key generation also serves the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# Both Slack and Discord stamp each request; older (or further ahead) than this
# and it is refused, so a captured request cannot be played again later.
MAX_AGE_SECONDS = 300


class SignatureError(Exception):
    """The request does not prove where it comes from (one sentence for the caller)."""


def _fresh(timestamp: str, now: float | None) -> None:
    try:
        stamped = int(timestamp)
    except ValueError:
        raise SignatureError("The request timestamp is missing or not a number.") from None
    if abs((now if now is not None else time.time()) - stamped) > MAX_AGE_SECONDS:
        raise SignatureError("The request timestamp is more than 5 minutes away from now.")


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`, as Slack signs."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(
    secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> None:
    _fresh(timestamp, now)
    expected = slack_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode(errors="replace")):
        raise SignatureError("The Slack signature does not match the request.")


def verify_discord(
    public_key_hex: str, timestamp: str, signature_hex: str, body: bytes, now: float | None = None
) -> None:
    """Ed25519 over `timestamp + body` with the application's public key."""
    _fresh(timestamp, now)
    try:
        signature = bytes.fromhex(signature_hex)
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(signature, timestamp.encode() + body)
    except (ValueError, InvalidSignature):
        raise SignatureError("The Discord signature does not match the request.") from None


def matching_token(allowed: list[str], given: str) -> bool:
    """Compared with every configured token in constant time: timing tells nothing."""
    encoded = given.encode(errors="replace")
    matches = [hmac.compare_digest(encoded, token.encode()) for token in allowed]
    return any(matches)
