"""Password hashing (argon2 via pwdlib) and HS256 access tokens (PyJWT, algorithm pinned)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

ALGORITHM = "HS256"
# Longer passwords are refused before hashing: argon2 cost grows with input and
# nobody types 1,024 characters.
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the username is unknown, so that case costs the same
# time as a wrong password and timing does not reveal valid usernames.
_DUMMY_HASH = _hasher.hash("reactbin-dummy-password-for-constant-time")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def is_password_hash(value: str) -> bool:
    return value.startswith("$argon2")


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


def check_credentials(
    username: str, password: str, *, owner_username: str, owner_hash: str
) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    known = hmac.compare_digest(username.encode(), owner_username.encode())
    valid = verify_password(password, owner_hash if known else _DUMMY_HASH)
    return known and valid


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    issued_at: datetime
    expires_at: datetime
    version: int = 0


def create_access_token(subject: str, *, secret: str, expire_minutes: int, version: int = 0) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "iat": now,
        "exp": now + timedelta(minutes=expire_minutes),
        "ver": version,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(Exception):
    pass


def decode_access_token(token: str, *, secret: str) -> TokenClaims:
    """Raises InvalidToken for anything but a well-formed, unexpired HS256 token we signed."""
    try:
        # `algorithms` is pinned: `alg: none` and other algorithms are refused.
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]}
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    subject, version = payload.get("sub"), payload.get("ver", 0)
    if not isinstance(subject, str) or not isinstance(version, int):
        raise InvalidToken("malformed claims")
    return TokenClaims(
        subject=subject,
        issued_at=datetime.fromtimestamp(payload["iat"], UTC),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        version=version,
    )
