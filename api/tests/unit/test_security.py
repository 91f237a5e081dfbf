from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.auth.security import (
    InvalidToken,
    check_credentials,
    create_access_token,
    decode_access_token,
    hash_password,
)

SECRET = "s" * 64


def test_token_round_trip_has_the_claims() -> None:
    token = create_access_token("owner", secret=SECRET, expire_minutes=5)
    claims = decode_access_token(token, secret=SECRET)
    assert claims.subject == "owner"
    assert timedelta(minutes=4) < claims.expires_at - claims.issued_at <= timedelta(minutes=5)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_tokens_we_did_not_sign_are_refused() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "owner", "iat": now, "exp": now + timedelta(minutes=5)}
    for token in (
        jwt.encode(claims, "x" * 64, algorithm="HS256"),
        jwt.encode(claims, SECRET, algorithm="HS384"),
        jwt.encode({**claims, "exp": now - timedelta(seconds=1)}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "owner", "exp": now + timedelta(minutes=5)}, SECRET, algorithm="HS256"),
        "a.b.c",
    ):
        with pytest.raises(InvalidToken):
            decode_access_token(token, secret=SECRET)


def test_credentials() -> None:
    stored = hash_password("correct horse")
    assert check_credentials("owner", "correct horse", owner_username="owner", owner_hash=stored)
    assert not check_credentials("owner", "wrong", owner_username="owner", owner_hash=stored)
    assert not check_credentials(
        "other", "correct horse", owner_username="owner", owner_hash=stored
    )
    assert not check_credentials("owner", "x" * 5000, owner_username="owner", owner_hash=stored)
    assert not check_credentials("owner", "x", owner_username="owner", owner_hash="not-a-hash")
