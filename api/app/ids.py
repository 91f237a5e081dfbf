"""Opaque, unguessable ids: 10 characters of base62 (about 59 bits from `secrets`)."""

import secrets
import string

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 10


def new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def is_valid_id(value: str) -> bool:
    return len(value) == ID_LENGTH and all(c in ALPHABET for c in value)
