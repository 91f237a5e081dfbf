"""The OpenAPI document is the contract: Schemathesis generates requests from
`/openapi.json` and checks every answer against it (issue 15).

It runs against `reactbin serve` as a process (real HTTP through uvicorn, its
own database on the test PostgreSQL and its own bucket on the test S3), not the
ASGI app in-process: what a generated client talks to is the server, with its
HTTP parser, its middleware order and its real storage. All Schemathesis
checks, with and without the owner's token; only logout is left out (it would
revoke the token mid-run). A fixed seed and a bounded number of examples per
operation keep it deterministic and a few minutes long; `make fuzz` runs the
same with many more examples (REACTBIN_FUZZ_EXAMPLES, REACTBIN_FUZZ_SEED).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, running_server
from tests.integration.helpers import gif_bytes, png_bytes

SEED = int(os.environ.get("REACTBIN_FUZZ_SEED", "15"))
EXAMPLES = int(os.environ.get("REACTBIN_FUZZ_EXAMPLES", "12"))
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """With a small library, so pages, search results and Tenor results have items
    whose shape is checked too."""
    with running_server(tmp_path_factory) as started:
        owner = {"Authorization": f"Bearer {_token(started)}"}
        for seed, (data, name) in enumerate(
            [(gif_bytes(1), "dancing cat.gif"), (png_bytes(2), "a.png")]
        ):
            response = httpx.post(
                f"{started.base_url}/api/v1/images",
                headers=owner,
                files={"file": (name, data, "application/octet-stream")},
                data={"tags": f"cat,reaction {seed}", "description": "½ of a cat"},
            )
            assert response.status_code == 201, response.text
        yield started


def _token(server: Server) -> str:
    response = httpx.post(
        f"{server.base_url}/api/v1/auth/token",
        data={"username": server.username, "password": server.password},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is not installed (pip install -e 'api[test]')"
    return found


@pytest.mark.timeout(0 if EXAMPLES > 12 else 600)
@pytest.mark.parametrize("as_owner", [False, True], ids=["anonymous", "owner"])
def test_every_answer_matches_the_document(
    contract_server: Server, as_owner: bool, tmp_path: Path
) -> None:
    headers = ["--header", f"Authorization: Bearer {_token(contract_server)}"] if as_owner else []
    command = [
        _schemathesis(),
        "--config-file",
        str(CONFIG),
        "run",
        f"{contract_server.base_url}/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--exclude-path",
        "/api/v1/auth/logout",
        "--report-dir",
        str(tmp_path),
        *headers,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, check=False, timeout=None
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    # The server stayed up and can still answer.
    assert httpx.get(f"{contract_server.base_url}/readyz").status_code == 200
