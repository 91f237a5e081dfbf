"""Opaque, signed cursors: clients cannot forge or edit one, so a bad cursor is a 422."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

SIGNATURE_BYTES = 12
MAX_CURSOR_LENGTH = 512


class InvalidCursor(ValueError):
    pass


class CursorCodec:
    def __init__(self, secret: str) -> None:
        # A key of its own, derived from the JWT key, so a cursor can never be a token.
        self._key = hmac.new(secret.encode(), b"reactbin-cursor-v1", hashlib.sha256).digest()

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:SIGNATURE_BYTES]

    def encode(self, payload: dict[str, Any]) -> str:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        raw = self._sign(body) + body
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, cursor: str) -> dict[str, Any]:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("cursor is too long")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor("cursor is not valid") from None
        signature, body = raw[:SIGNATURE_BYTES], raw[SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidCursor("cursor was not issued by this server")
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise InvalidCursor("cursor is not valid")
        return payload
