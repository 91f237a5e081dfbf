"""Settings: one class, read from the environment (or a `.env` file), validated at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ASYNCPG_SCHEME = "postgresql+asyncpg://"
MIN_JWT_SECRET_BYTES = 32
DEFAULT_RESPONSE_CACHE_MB = 64

# What sits between reactbin and PostgreSQL (docs/deploy.md, "Behind PgBouncer").
DatabasePooler = Literal["none", "session", "transaction"]


class SettingsError(Exception):
    """A wrong setting; the message is one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str | None = None
    # `transaction`: a pooler that lends a server connection per transaction, so
    # nothing may outlive one (named prepared statements, session settings, LISTEN).
    database_pooler: DatabasePooler = "none"
    storage_backend: Literal["s3", "local"] | None = None
    s3_endpoint_url: str | None = None
    s3_bucket_name: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("reactbin"))

    jwt_secret_key: SecretStr | None = None
    jwt_expire_minutes: int = Field(default=60, ge=1, le=60 * 24 * 365)
    owner_username: str = Field(default="owner", min_length=1, max_length=100)
    owner_password: SecretStr | None = None
    auth_provider: Literal["jwt", "noop"] = "jwt"
    reactbin_allow_noop_auth: bool = False

    # Unset: the address `serve` listens on (http://127.0.0.1:8000 by default).
    api_base_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # Where an upload is spooled while it is checked (default: the system temp dir).
    upload_tmp_dir: Path | None = None
    # A body that stalls this long between chunks, or takes longer than the
    # total, is cut off (408): a trickling client cannot hold a worker forever.
    upload_idle_timeout_seconds: float = Field(default=30.0, gt=0)
    upload_total_timeout_seconds: float = Field(default=300.0, gt=0)
    # Decompression-bomb caps, checked from the image header before decoding.
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    max_image_side: int = Field(default=30_000, ge=1)
    max_image_frames: int = Field(default=1_000, ge=1)
    max_image_total_pixels: int = Field(default=2_000_000_000, ge=1)

    # Every storage call is bounded so a hung S3 server turns into a 503, not a hang.
    storage_timeout_seconds: float = Field(default=20.0, gt=0)
    # Run background jobs (text recognition) inside `reactbin serve`. Unset: yes
    # for the embedded quick-start, no when DATABASE_URL is set (run `reactbin worker`).
    run_worker: bool | None = None
    # Unset: /metrics is open (keep it off the public proxy); set: Bearer token required.
    metrics_token: SecretStr | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Comma-separated keys for the Tenor-compatible API (/v2/...); when set, a
    # request's `key` must be one of them. Empty: the API is open like the gallery.
    tenor_api_keys: str = ""
    # Memory for repeated public reads (searches, pages, Tenor answers), cleared on
    # every change to the library (app/readcache). 0: no cache. Unset: 64, or 0
    # with DATABASE_POOLER=transaction (see `response_cache_bytes`).
    response_cache_mb: int | None = Field(default=None, ge=0, le=65536)
    # Days a deleted image stays in the trash (restorable) before the worker purges
    # it; 0: a delete removes the image and its files at once.
    trash_days: int = Field(default=30, ge=0, le=36500)
    # Chat apps' `/reaction` command (app/integrations, docs/chat-apps.md); each is
    # off until its secret is set. Outbound bases are settings so tests can point
    # them at a local server.
    slack_signing_secret: SecretStr | None = None
    slack_response_url_base: str = "https://hooks.slack.com/"
    mattermost_tokens: SecretStr | None = None
    discord_public_key: str = ""
    discord_application_id: str = ""
    discord_bot_token: SecretStr | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    integrations_requests_per_minute: int = Field(default=60, ge=1, le=100_000)

    @field_validator("database_url")
    @classmethod
    def _asyncpg_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(ASYNCPG_SCHEME):
            raise ValueError(f"must start with {ASYNCPG_SCHEME}")
        if value is not None:
            try:
                # Parsed now so that a typo (a port that is not a number...) is one
                # clear line at start, not a traceback from the first connection.
                make_url(value).port  # noqa: B018
            except (ArgumentError, ValueError):
                # Not the parser's message: it would repeat the URL, password included.
                raise ValueError(
                    "is not a valid URL (expected "
                    "postgresql+asyncpg://user:password@host:5432/database)"
                ) from None
        return value

    @field_validator("jwt_secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_BYTES} bytes long")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("discord_public_key")
    @classmethod
    def _ed25519_key(cls, value: str) -> str:
        value = value.strip()
        if value and (len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value)):
            raise ValueError("must be the application's public key: 64 hexadecimal characters")
        return value.lower()

    @field_validator("owner_password")
    @classmethod
    def _no_default_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().lower() in WEAK_PASSWORDS:
            raise ValueError("is a well-known default password; choose another")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if not self.api_base_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
            self.api_base_url = f"http://{host}:{self.port}"
        if self.resolved_storage_backend == "s3" and not self.s3_bucket_name:
            raise ValueError("S3_BUCKET_NAME must be set when STORAGE_BACKEND is s3")
        if self.auth_provider == "noop" and not self.reactbin_allow_noop_auth:
            raise ValueError(
                "AUTH_PROVIDER=noop disables all authentication; "
                "set REACTBIN_ALLOW_NOOP_AUTH=1 to confirm (local development only)"
            )
        if self.database_pooler != "none" and self.database_url is None:
            raise ValueError(
                "DATABASE_POOLER needs DATABASE_URL (the embedded PostgreSQL has no pooler)"
            )
        if self.database_pooler == "transaction" and self.response_cache_mb:
            # The cache stays exact only by LISTENing for changes, and a transaction
            # pooler does not deliver notifications (tests/cluster/test_pooler.py).
            raise ValueError(
                "RESPONSE_CACHE_MB must be 0 with DATABASE_POOLER=transaction: the cache "
                "learns of changes through LISTEN, which a transaction-mode pooler drops"
            )
        return self

    @property
    def response_cache_bytes(self) -> int:
        megabytes = self.response_cache_mb
        if megabytes is None:
            megabytes = 0 if self.database_pooler == "transaction" else DEFAULT_RESPONSE_CACHE_MB
        return megabytes * 1024 * 1024

    @property
    def resolved_storage_backend(self) -> Literal["s3", "local"]:
        if self.storage_backend is not None:
            return self.storage_backend
        return "s3" if (self.s3_endpoint_url or self.s3_bucket_name) else "local"

    @property
    def worker_in_process(self) -> bool:
        return self.run_worker if self.run_worker is not None else self.database_url is None

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None


WEAK_PASSWORDS = frozenset({"", "admin", "password", "changeme", "owner", "reactbin", "secret"})


def format_validation_error(exc: ValidationError) -> str:
    """One line naming the variable, for people reading a terminal or a container log."""
    parts = []
    for error in exc.errors():
        loc = "_".join(str(p) for p in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {message}" if loc else message)
    return "invalid configuration: " + "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; `overrides` (command-line options) win."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc)) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
