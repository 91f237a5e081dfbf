"""Export, wipe the database and the bucket, restore: every link handed out before works.

A server of its own (its own database and bucket, the worker in-process), driven
like a user would: HTTP for the library, `reactbin export` and `reactbin restore`
as processes, one of them killed mid-run.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from tests.e2e.conftest import _admin, _reactbin, open_bucket, server_environment, serving

IMAGES = 52
KINDS = ("GIF", "PNG", "JPEG", "WEBP", "WEBP-ANIM", "GIF-STILL")
VERSION = re.compile(r"\?v=[0-9a-f]+")


def _without_video_sizes(answer: dict[str, Any]) -> dict[str, Any]:
    """Video renditions are re-encoded after a restore, not copied, and the encoders
    are not byte-for-byte repeatable (WebM's random segment id, threaded VP9): their
    sizes may differ, everything else in the answer must not."""
    for result in answer.get("results", []):
        for media in result.get("media_formats", {}).values():
            if media["url"].split("?")[0].endswith((".mp4", ".webm")):
                media.pop("size", None)
    return answer


def _image(n: int) -> bytes:
    kind = KINDS[n % len(KINDS)]
    size = (48 + n % 7 * 9, 36 + n % 5 * 7)
    frames = [PILImage.new("RGB", size, (n * 37 % 256, i * 90 % 256, 200 - n)) for i in range(3)]
    out = io.BytesIO()
    if kind in ("GIF", "WEBP-ANIM"):
        fmt = "GIF" if kind == "GIF" else "WEBP"
        frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=80, loop=0)
    else:
        frames[0].save(out, {"GIF-STILL": "GIF", "WEBP": "WEBP"}.get(kind, kind))
    return out.getvalue()


def _fields(n: int) -> dict[str, Any]:
    """Every kind of field: unicode, empty and long descriptions, 0-4 tags."""
    tags = ["réaction", "dog", "été 2024", "😀", "x" * 50][: n % 5]
    return {
        "title": f"Nº{n} — “ça va” 🙂" if n % 3 else f"plain {n}",
        "description": "" if n % 4 == 0 else f"line one\nline two {n} " + "é" * (n * 7),
        "tags": ",".join(tags),
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_reactbin(), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _count(output: str, row: str) -> int:
    match = re.search(re.escape(row) + r"[^│|\n]*[│|]\s*(\d+)", output)
    assert match, f"no {row!r} row in:\n{output}"
    return int(match.group(1))


async def _jobs_left(database_url: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            )
        )
    finally:
        await connection.close()


def _wait_for_worker(env: dict[str, str]) -> None:
    deadline = time.monotonic() + 600
    while asyncio.run(_jobs_left(env["DATABASE_URL"])) > 0:
        assert time.monotonic() < deadline, "the worker did not finish its jobs"
        time.sleep(0.5)


def _build_library(http: httpx.Client, auth: dict[str, str]) -> None:
    for n in range(IMAGES):
        response = http.post(
            "/api/v1/images",
            files={"file": (f"image{n}.bin", _image(n), "application/octet-stream")},
            data=_fields(n),
            headers=auth,
        )
        assert response.status_code == 201, response.text
        image_id = response.json()["id"]
        if n % 5 == 1:  # the owner's correction of the recognised text
            fixed = http.patch(
                f"/api/v1/images/{image_id}", json={"ocr_text": f"FIXED {n} ✓"}, headers=auth
            )
            assert fixed.status_code == 200
        for _ in range(n % 4):
            assert http.get("/v2/registershare", params={"id": image_id}).status_code == 200


def _record(http: httpx.Client, auth: dict[str, str]) -> dict[str, Any]:
    """Everything a visitor or a chat may have kept: JSON answers and the bytes of every URL."""
    backup = http.get("/api/v1/backup/images", params={"limit": 100}, headers=auth).json()
    record: dict[str, Any] = {"backup": backup["items"], "tags": http.get("/api/v1/tags").json()}
    assert len(backup["items"]) == IMAGES
    files: dict[str, tuple[str, bytes]] = {}
    for item in backup["items"]:
        image_id = item["id"]
        record[image_id] = http.get(f"/api/v1/images/{image_id}").json()
        posts = http.get("/v2/posts", params={"ids": image_id}).text
        record[f"v2:{image_id}"] = _without_video_sizes(json.loads(VERSION.sub("", posts)))
        urls = {record[image_id]["url"], record[image_id]["thumbnail_url"]}
        urls |= set(re.findall(r'"url": ?"([^"]+)"', posts))
        for url in urls:
            response = http.get(url)
            assert response.status_code == 200, url
            files[url] = (response.headers["content-type"], response.content)
        assert http.get(f"/i/{image_id}").status_code == 200
    record["files"] = files
    return record


def _login(http: httpx.Client, server_env: dict[str, str]) -> dict[str, str]:
    form = {"username": "owner", "password": server_env["OWNER_PASSWORD"]}
    token = http.post("/api/v1/auth/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def server_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    extra = {"RUN_WORKER": "true", "XDG_STATE_HOME": str(tmp_path / "state")}
    with server_environment(tmp_path / "data", "restore", **extra) as env:
        # Without the REACTBIN_* variables, `reactbin export`/`restore` get only --server
        # and the login given here.
        yield {k: v for k, v in env.items() if not k.startswith("REACTBIN_")}


def _wipe(env: dict[str, str]) -> None:
    """A new, empty database and bucket under the same names: nothing of the library is left."""
    base_db = os.environ["TEST_DATABASE_URL"]
    db_name = env["DATABASE_URL"].rsplit("/", 1)[1]
    asyncio.run(_admin(base_db, f'DROP DATABASE "{db_name}" WITH (FORCE)'))
    asyncio.run(_admin(base_db, f'CREATE DATABASE "{db_name}"'))
    asyncio.run(_empty_bucket(env["S3_BUCKET_NAME"]))


async def _empty_bucket(name: str) -> None:
    async with open_bucket(name) as storage:
        keys = [info.key async for info in storage.list("")]
        assert keys  # there was a library to lose
        for key in keys:
            await storage.delete(key)
        assert [info.key async for info in storage.list("")] == []


def _restore_killed_mid_run(env: dict[str, str], login: list[str], export: Path) -> int:
    """Start `reactbin restore`, SIGKILL it once a few images are in; how many were."""
    process = subprocess.Popen(
        [_reactbin(), "restore", str(export), *login, "--jobs", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=env["API_BASE_URL"], timeout=30) as http:
            deadline = time.monotonic() + 120
            while (n := len(http.get("/api/v1/images", params={"limit": 100}).json()["items"])) < 3:
                assert process.poll() is None, "restore ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    return n


# Two libraries' worth of background jobs (renditions, text recognition) on a small machine.
@pytest.mark.timeout(900)
def test_export_wipe_restore_keeps_every_link(server_env: dict[str, str], tmp_path: Path) -> None:
    env, log = server_env, tmp_path / "server.log"
    login = ["--server", env["API_BASE_URL"], "--username", "owner"]
    login += ["--password", env["OWNER_PASSWORD"]]
    export = tmp_path / "export"
    with (
        serving(env, log, timeout=120),  # a busy machine: be patient
        httpx.Client(base_url=env["API_BASE_URL"], timeout=60) as http,
    ):
        _build_library(http, _login(http, env))
        _wait_for_worker(env)
        before = _record(http, _login(http, env))
        exported = _cli(env, "export", str(export), *login)
        assert exported.returncode == 0, exported.stderr
    manifest = json.loads((export / "manifest.json").read_text())
    assert (manifest["version"], len(manifest["images"])) == (2, IMAGES)

    _wipe(env)
    with (
        serving(env, log, timeout=120),  # a busy machine: be patient
        httpx.Client(base_url=env["API_BASE_URL"], timeout=60) as http,
    ):
        assert http.get("/api/v1/images").json()["items"] == []
        killed_at = _restore_killed_mid_run(env, login, export)
        assert killed_at < IMAGES
        resumed = _cli(env, "restore", str(export), *login)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert _count(resumed.stdout, "restored") + _count(resumed.stdout, "unchanged") == IMAGES
        assert _count(resumed.stdout, "restored") >= IMAGES - killed_at - 1
        again = _cli(env, "restore", str(export), *login)
        assert again.returncode == 0, again.stderr
        assert (_count(again.stdout, "restored"), _count(again.stdout, "unchanged")) == (0, IMAGES)
        _wait_for_worker(env)
        after = _record(http, _login(http, env))
        checked = _cli(env, "check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        for url, (content_type, content) in before["files"].items():
            response = http.get(url)  # the URL as handed out before the wipe
            assert response.status_code == 200, url
            assert response.headers["content-type"] == content_type, url
            if content_type.startswith("video/"):
                # Re-encoded by the worker, not copied: the muxer writes a random segment
                # id (WebM) into otherwise identical files, so only the kind must match.
                assert response.content[:4] == content[:4], url
            else:
                assert response.content == content, url

    assert after["backup"] == before["backup"]  # ids, times, share counts, hashes, text
    assert after["tags"] == before["tags"]
    for item in before["backup"]:
        assert after[item["id"]] == before[item["id"]]
        assert after[f"v2:{item['id']}"] == before[f"v2:{item['id']}"]
    assert sorted(after["files"]) != sorted(before["files"])  # rebuilt renditions: new URLs
