"""Resolve the owner's password hash and the JWT key, generating them once when unset.

Generated values live in the data directory (mode 600). Deployments with several
processes set JWT_SECRET_KEY and OWNER_PASSWORD so every process agrees.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.auth.security import hash_password, is_password_hash
from app.config import Settings

JWT_SECRET_FILE = "jwt-secret"  # noqa: S105  (a file name, not a secret)
OWNER_HASH_FILE = "owner-password.argon2"


@dataclass(frozen=True)
class AuthSecrets:
    jwt_secret: str
    owner_username: str
    owner_password_hash: str
    # Set only on the start that generated it: shown once, never stored in clear.
    generated_password: str | None = None


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def _read_or_create(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    try:
        return path.read_text().strip(), False
    except FileNotFoundError:
        pass
    value = make()
    try:
        _write_private(path, value)
    except FileExistsError:  # another process won the race; use its value
        return path.read_text().strip(), False
    return value, True


def resolve_auth_secrets(settings: Settings) -> AuthSecrets:
    if settings.jwt_secret_key is not None:
        jwt_secret = settings.jwt_secret_key.get_secret_value()
    else:
        jwt_secret, _ = _read_or_create(
            settings.data_dir / JWT_SECRET_FILE, lambda: secrets.token_hex(32)
        )

    generated: str | None = None
    if settings.owner_password is not None:
        given = settings.owner_password.get_secret_value()
        owner_hash = given if is_password_hash(given) else hash_password(given)
    else:
        candidate = secrets.token_urlsafe(15)
        owner_hash, created = _read_or_create(
            settings.data_dir / OWNER_HASH_FILE, lambda: hash_password(candidate)
        )
        generated = candidate if created else None

    return AuthSecrets(
        jwt_secret=jwt_secret,
        owner_username=settings.owner_username,
        owner_password_hash=owner_hash,
        generated_password=generated,
    )
