from __future__ import annotations

import pytest

from app.config import Settings, SettingsError, load_settings

CLEAR = [
    "DATABASE_URL",
    "STORAGE_BACKEND",
    "S3_ENDPOINT_URL",
    "S3_BUCKET_NAME",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "JWT_SECRET_KEY",
    "OWNER_PASSWORD",
    "AUTH_PROVIDER",
    "REACTBIN_ALLOW_NOOP_AUTH",
    "API_BASE_URL",
    "MAX_UPLOAD_BYTES",
    "DATABASE_POOLER",
    "RESPONSE_CACHE_MB",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env file


def test_defaults_are_the_laptop_quick_start() -> None:
    settings = Settings()
    assert settings.embedded_database
    assert settings.resolved_storage_backend == "local"
    assert settings.max_upload_bytes == 20 * 1024 * 1024
    assert settings.jwt_expire_minutes == 60
    assert settings.api_base_url == "http://127.0.0.1:8000"
    assert settings.s3_region == "us-east-1"


def test_s3_is_chosen_when_a_bucket_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_BUCKET_NAME", "b")
    assert Settings().resolved_storage_backend == "s3"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "sqlite:///x.db"),
        ("DATABASE_URL", "postgresql://u@h/db"),
        ("JWT_SECRET_KEY", "short"),
        ("MAX_UPLOAD_BYTES", "-1"),
        ("MAX_UPLOAD_BYTES", "lots"),
        ("API_BASE_URL", "ftp://x"),
        ("OWNER_PASSWORD", "changeme"),
        ("STORAGE_BACKEND", "floppy"),
        ("JWT_EXPIRE_MINUTES", "0"),
        ("DATABASE_POOLER", "pgbouncer"),
        ("RESPONSE_CACHE_MB", "-1"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert "\n" not in message


def test_noop_auth_needs_the_explicit_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_PROVIDER", "noop")
    with pytest.raises(SettingsError, match="REACTBIN_ALLOW_NOOP_AUTH"):
        load_settings()
    monkeypatch.setenv("REACTBIN_ALLOW_NOOP_AUTH", "1")
    assert load_settings().auth_provider == "noop"


def test_s3_backend_without_bucket_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    with pytest.raises(SettingsError, match="S3_BUCKET_NAME"):
        load_settings()


DATABASE = "postgresql+asyncpg://u:p@db:5432/reactbin"
MIB = 1024 * 1024


def test_no_pooler_and_the_cache_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DATABASE)
    settings = load_settings()
    assert settings.database_pooler == "none"
    assert settings.response_cache_bytes == 64 * MIB


@pytest.mark.parametrize(
    ("pooler", "cache_mb"), [("none", 64), ("session", 64), ("transaction", 0)]
)
def test_the_cache_is_off_by_default_only_behind_a_transaction_pooler(
    monkeypatch: pytest.MonkeyPatch, pooler: str, cache_mb: int
) -> None:
    monkeypatch.setenv("DATABASE_URL", DATABASE)
    monkeypatch.setenv("DATABASE_POOLER", pooler)
    assert load_settings().response_cache_bytes == cache_mb * MIB


@pytest.mark.parametrize("pooler", ["none", "session"])
def test_a_cache_size_is_taken_as_given_without_a_transaction_pooler(
    monkeypatch: pytest.MonkeyPatch, pooler: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", DATABASE)
    monkeypatch.setenv("DATABASE_POOLER", pooler)
    monkeypatch.setenv("RESPONSE_CACHE_MB", "8")
    assert load_settings().response_cache_bytes == 8 * MIB
    monkeypatch.setenv("RESPONSE_CACHE_MB", "0")
    assert load_settings().response_cache_bytes == 0


def test_a_cache_behind_a_transaction_pooler_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DATABASE)
    monkeypatch.setenv("DATABASE_POOLER", "transaction")
    monkeypatch.setenv("RESPONSE_CACHE_MB", "64")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "RESPONSE_CACHE_MB must be 0 with DATABASE_POOLER=transaction" in message
    assert "\n" not in message
    monkeypatch.setenv("RESPONSE_CACHE_MB", "0")  # saying "off" explicitly is fine
    assert load_settings().response_cache_bytes == 0


def test_a_pooler_needs_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOLER", "session")
    with pytest.raises(SettingsError, match="DATABASE_POOLER needs DATABASE_URL"):
        load_settings()
