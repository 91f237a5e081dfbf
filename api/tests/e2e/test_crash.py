"""The server process killed in the middle of uploads (SIGKILL) and stopped politely
(SIGTERM), over real HTTP, on a database and bucket of this module's own, so killing
it leaves the shared `server` fixture alone.

- SIGKILL: after a restart and `reactbin check --repair --grace-minutes 0`, every
  upload that got its 201 is listed and downloads byte for byte, and nothing is
  orphaned: no object without a row, no row without its objects.
- SIGTERM: an upload whose body is still arriving finishes with its 201, then the
  process exits 0.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import re
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from PIL import Image as PILImage

from tests.e2e.conftest import REQUIRED, _admin, _bucket, _reactbin, free_port, stop, wait_ready

if TYPE_CHECKING:
    from app.consistency import CheckReport

WORKERS = 8
KILL_AFTER = 24  # confirmed uploads before the SIGKILL


@dataclass
class Stack:
    """A database, a bucket and the environment of a `reactbin serve` that uses them."""

    env: dict[str, str]
    base_url: str
    password: str
    upload_tmp: Path
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def running(self) -> subprocess.Popen[bytes]:
        """The server, started unless the previous test left it running."""
        if self.processes and self.processes[-1].poll() is None:
            return self.processes[-1]
        return self.serve()

    def serve(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"serve-{len(self.processes)}.log").open("wb")
        with log:
            process = subprocess.Popen(
                [_reactbin(), "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        wait_ready(self.base_url, process)
        return process

    def reactbin(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_reactbin(), *args],
            env={**self.env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def inspect(self) -> CheckReport:
        """`consistency.check` (grace 0) of this stack's database and bucket, in this process."""
        return asyncio.run(_inspect(self.env))

    def original(self, image_id: str) -> bytes | None:
        """The stored original of a row, read straight from the database and the bucket."""
        return asyncio.run(_original(self.env, image_id))

    def token(self) -> str:
        response = httpx.post(
            f"{self.base_url}/api/v1/auth/token",
            data={"username": "owner", "password": self.password},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    assert not missing, f"e2e tests need {missing} (run them through `make test`)"
    base_db = os.environ["TEST_DATABASE_URL"]
    suffix = secrets.token_hex(4)
    db_name, bucket = f"reactbin_crash_{suffix}", f"reactbin-crash-{suffix}"
    asyncio.run(_admin(base_db, f'CREATE DATABASE "{db_name}"'))
    asyncio.run(_bucket("create", bucket))
    port = free_port()
    root = tmp_path_factory.mktemp("crash")
    (root / "uploads").mkdir()
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "DATABASE_URL": base_db.rsplit("/", 1)[0] + f"/{db_name}",
        "S3_BUCKET_NAME": bucket,
        "OWNER_USERNAME": "owner",
        "OWNER_PASSWORD": password,
        "API_BASE_URL": f"http://127.0.0.1:{port}",
        "DATA_DIR": str(root),
        "UPLOAD_TMP_DIR": str(root / "uploads"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
    }
    env.pop("TEST_DATABASE_URL", None)
    stack = Stack(env, env["API_BASE_URL"], password, root / "uploads", root)
    try:
        from app import migrate

        migrate.upgrade(env["DATABASE_URL"])
        yield stack
    finally:
        for process in stack.processes:
            stop(process)
        asyncio.run(_bucket("delete", bucket))
        asyncio.run(_admin(base_db, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


@asynccontextmanager
async def _backends(env: dict[str, str]) -> AsyncIterator[tuple[Any, Any]]:
    """A sessionmaker and a storage on the stack's database and bucket, in this process."""
    from app.db import create_engine, create_sessionmaker
    from app.storage.s3 import S3Storage

    engine = create_engine(env["DATABASE_URL"], pool_size=1)
    storage = await S3Storage(
        bucket=env["S3_BUCKET_NAME"],
        endpoint_url=env["S3_ENDPOINT_URL"],
        access_key_id=env.get("S3_ACCESS_KEY_ID"),
        secret_access_key=env.get("S3_SECRET_ACCESS_KEY"),
        region=env.get("S3_REGION", "us-east-1"),
        timeout=10,
    ).open()
    try:
        yield create_sessionmaker(engine), storage
    finally:
        await storage.close()
        await engine.dispose()


async def _inspect(env: dict[str, str]) -> CheckReport:
    from app import consistency

    async with _backends(env) as (sessionmaker, storage):
        return await consistency.check(sessionmaker, storage, grace=timedelta(0))


async def _original(env: dict[str, str], image_id: str) -> bytes | None:
    from app.images import repository

    async with _backends(env) as (sessionmaker, storage):
        async with sessionmaker() as session:
            image = await repository.get(session, image_id)
        if image is None:
            return None
        stored = await storage.get(image.original_key)
        return b"".join([chunk async for chunk in stored.body])


def noise_png(seed: int, size: tuple[int, int] = (360, 240)) -> bytes:
    """About 260 KB that do not compress: each upload takes a moment to send and store."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    PILImage.frombytes("RGB", size, pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def check_counts(output: str) -> dict[str, int]:
    """The numbers of `reactbin check`'s table, by row label."""
    counts = {}
    for label in (
        "images (rows)",
        "objects",
        "rows missing their original",
        "rows missing their thumbnail",
        "orphan objects",
    ):
        match = re.search(r"^\W*" + re.escape(label) + r"\W+(\d+)\W*$", output, re.MULTILINE)
        assert match, f"no {label!r} in:\n{output}"
        counts[label] = int(match.group(1))
    return counts


def all_images(http: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/v1/images", params=params).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def test_sigkill_in_the_middle_of_uploads_loses_nothing_confirmed(stack: Stack) -> None:
    server = stack.running()
    auth = {"Authorization": f"Bearer {stack.token()}"}
    lock = threading.Lock()
    confirmed: list[tuple[dict[str, Any], bytes]] = []
    refused: list[str] = []
    cut_off: list[httpx.TransportError] = []

    def uploader(worker: int) -> None:
        with httpx.Client(base_url=stack.base_url, headers=auth, timeout=30) as http:
            for n in range(1000):
                data = noise_png(worker * 1000 + n)
                try:
                    response = http.post(
                        "/api/v1/images", files={"file": (f"w{worker}-{n}.png", data)}
                    )
                except httpx.TransportError as exc:  # the server is gone
                    with lock:
                        cut_off.append(exc)
                    return
                with lock:
                    if response.status_code == 201:
                        confirmed.append((response.json(), data))
                    else:
                        refused.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=uploader, args=(w,), daemon=True) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(confirmed) < KILL_AFTER and not refused and time.monotonic() < deadline:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)
    assert server.wait(timeout=10) == -signal.SIGKILL
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()

    assert refused == [], "uploads failed before the kill"
    assert len(confirmed) >= KILL_AFTER
    assert len(cut_off) == WORKERS
    # Workers were cut off in the middle of a request, not only refused a connection after.
    interrupted = [exc for exc in cut_off if not isinstance(exc, httpx.ConnectError)]
    assert interrupted, "the kill did not land in the middle of any upload"

    # Straight after the crash: objects without a row maybe, never a row without objects.
    crashed = stack.inspect()
    assert crashed.missing_originals == crashed.missing_thumbnails == []
    assert crashed.objects == 2 * crashed.rows + len(crashed.orphans)
    assert crashed.rows >= len(confirmed)

    stack.serve()
    repaired = stack.reactbin("check", "--repair", "--grace-minutes", "0")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    for key in crashed.orphans:
        assert f"orphan: {key}" in repaired.stdout
    after = stack.reactbin("check", "--grace-minutes", "0")
    assert after.returncode == 0, after.stdout + after.stderr
    counts = check_counts(after.stdout)
    assert counts["orphan objects"] == 0
    assert counts["rows missing their original"] == counts["rows missing their thumbnail"] == 0
    assert counts["images (rows)"] == crashed.rows
    assert counts["objects"] == 2 * crashed.rows

    with httpx.Client(base_url=stack.base_url, headers=auth, timeout=30) as http:
        listed = {image["id"]: image for image in all_images(http)}
        assert len(listed) == crashed.rows
        # Confirmed ones, plus any the kill caught after its commit but before the 201.
        assert {image["id"] for image, _ in confirmed} <= set(listed)
        for image, data in confirmed:
            download = http.get(image["url"])
            assert download.status_code == 200, image["id"]
            assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(data).hexdigest()
            assert image["sha256"] == hashlib.sha256(data).hexdigest()
        for image in listed.values():  # no row without its objects
            assert http.get(image["url"]).status_code == 200
            assert http.get(image["thumbnail_url"]).status_code == 200
        fresh = http.post("/api/v1/images", files={"file": ("after.png", noise_png(99_999))})
        assert fresh.status_code == 201, fresh.text
        for image_id in [*listed, fresh.json()["id"]]:
            assert http.delete(f"/api/v1/images/{image_id}").status_code == 204


def test_sigterm_lets_an_upload_in_flight_finish(stack: Stack) -> None:
    server = stack.running()
    token = stack.token()
    data = noise_png(123_456)
    form = httpx.Request("POST", stack.base_url, files={"file": ("slow.png", data)})
    body = form.read()
    size = len(body) // 20 + 1
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    sent = 0

    def trickle() -> Iterator[bytes]:  # about 2 s for the whole body
        nonlocal sent
        for piece in pieces:
            yield piece
            sent += 1
            time.sleep(0.1)

    result: dict[str, httpx.Response | Exception] = {}

    def post() -> None:
        try:
            result["response"] = httpx.post(
                f"{stack.base_url}/api/v1/images",
                content=trickle(),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": form.headers["Content-Type"],
                },
                timeout=30,
            )
        except Exception as exc:
            result["response"] = exc

    spooled_before = set(stack.upload_tmp.iterdir())  # a SIGKILL may have left some
    client = threading.Thread(target=post, daemon=True)
    client.start()
    # The server is reading this upload once it has opened a spool file for it.
    deadline = time.monotonic() + 10
    while not set(stack.upload_tmp.iterdir()) - spooled_before:
        assert time.monotonic() < deadline, "the upload never reached the server"
        time.sleep(0.01)
    server.send_signal(signal.SIGTERM)
    at_signal = sent
    client.join(timeout=30)
    assert not client.is_alive()
    assert at_signal < len(pieces) - 5, "the body was already sent when SIGTERM came"
    response = result["response"]
    assert isinstance(response, httpx.Response), repr(response)
    assert response.status_code == 201, response.text
    assert server.wait(timeout=30) == 0
    assert set(stack.upload_tmp.iterdir()) == spooled_before

    # Stored for good: the row and the original, byte for byte.
    assert stack.original(response.json()["id"]) == data
    report = stack.inspect()
    assert report.consistent
    assert report.orphans == []
