"""`make run` as a newcomer types it: no configuration at all."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
from PIL import Image as PILImage

from tests.e2e.conftest import _reactbin, free_port, stop, wait_ready

# Everything a developer machine or CI might have set that would turn the
# quick-start into the production mode.
CONFIG = (
    "DATABASE_URL",
    "TEST_DATABASE_URL",
    "S3_ENDPOINT_URL",
    "S3_BUCKET_NAME",
    "STORAGE_BACKEND",
    "JWT_SECRET_KEY",
    "OWNER_PASSWORD",
    "OWNER_USERNAME",
    "API_BASE_URL",
    "HOST",
    "PORT",
    "RUN_WORKER",
)


def _tiny_gif() -> bytes:
    out = io.BytesIO()
    PILImage.new("P", (8, 8), 3).save(out, "GIF")
    return out.getvalue()


def test_serve_with_no_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG}
    env["DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [_reactbin(), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, timeout=60)
        output = log_path.read_text()
        assert f"reactbin is running at {base}" in output
        found = re.search(r"Owner login: owner / (\S+)", output)
        assert found, output
        password = found.group(1)
        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post(
                "/api/v1/auth/token", data={"username": "owner", "password": password}
            )
            assert token.status_code == 200
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            gif = _tiny_gif()
            created = http.post(
                "/api/v1/images", headers=auth, files={"file": ("hello.gif", gif, "image/gif")}
            )
            assert created.status_code == 201, created.text
            assert created.json()["url"] == f"{base}/f/{created.json()['id']}.gif"
            assert http.get(created.json()["url"]).content == gif
        # Local storage and the embedded database live in the data directory.
        assert list((tmp_path / "data" / "objects" / "images").iterdir())
        assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
        # The generated password is stored only as a hash.
        assert password not in (tmp_path / "data" / "owner-password.argon2").read_text()
    finally:
        stop(process)
    assert process.returncode == 0
    # The embedded PostgreSQL stops with the server.
    pgdata = str(tmp_path / "data" / "pgdata")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        running = [
            p
            for p in psutil.process_iter(["cmdline"])
            if pgdata in " ".join(p.info["cmdline"] or [])
        ]
        if not running:
            break
        time.sleep(0.2)
    assert not running
    # A second start reuses the data and prints no new password.
    with log_path.open("wb") as log:
        again = subprocess.Popen(
            [_reactbin(), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        wait_ready(base, again, timeout=60)
        assert "Owner login" not in log_path.read_text()
        assert len(httpx.get(f"{base}/api/v1/images").json()["items"]) == 1
    finally:
        again.send_signal(signal.SIGTERM)
        stop(again)
