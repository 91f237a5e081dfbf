"""What a preview's buttons carry (the words, the position, the image, a nonce),
signed so that a click is acted on only with a state this server issued.

Not the gallery's cursor codec: a state holds up to 100 words of any script
(4 bytes a character) and a response_url, longer than a cursor may be."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

SIGNATURE_BYTES = 16
# Slack keeps a button value up to 2,000 characters; a state stays well under.
MAX_STATE_LENGTH = 1900


class InvalidState(ValueError):
    pass


class StateCodec:
    def __init__(self, secret: str) -> None:
        # A key of its own, derived from the JWT key: a state is never a token or a cursor.
        self._key = hmac.new(secret.encode(), b"reactbin-chat-state-v1", hashlib.sha256).digest()

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:SIGNATURE_BYTES]

    def encode(self, payload: dict[str, Any]) -> str:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(self._sign(body) + body).rstrip(b"=").decode()

    def decode(self, state: str) -> dict[str, Any]:
        if len(state) > MAX_STATE_LENGTH:
            raise InvalidState("state is too long")
        try:
            raw = base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))
        except (binascii.Error, ValueError):
            raise InvalidState("state is not valid") from None
        signature, body = raw[:SIGNATURE_BYTES], raw[SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidState("state was not issued by this server")
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise InvalidState("state is not valid")
        return payload
