"""`reactbin import` and `reactbin export` as a user runs them: real processes over
real HTTP against the real server."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
from PIL import Image as PILImage

from tests.e2e.conftest import Server, free_port


def _gif(seed: int) -> bytes:
    frames = [PILImage.new("RGB", (32, 24), (seed * 40 % 256, i * 70, 120)) for i in range(2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=90, loop=0)
    return out.getvalue()


def _reactbin(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("reactbin", path=str(Path(sys.executable).parent))
    assert executable
    env = {k: v for k, v in os.environ.items() if not k.startswith("REACTBIN_")}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return subprocess.run(
        [executable, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _count(output: str, row: str) -> int:
    match = re.search(re.escape(row) + r"[^│|\n]*[│|]\s*(\d+)", output)
    assert match, f"no {row!r} row in:\n{output}"
    return int(match.group(1))


def _wipe(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", data={"username": server.username, "password": server.password}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        while items := http.get("/api/v1/images", params={"limit": 100}).json()["items"]:
            for item in items:
                http.delete(f"/api/v1/images/{item['id']}", headers=auth)
                http.delete(f"/api/v1/trash/{item['id']}", headers=auth)


def test_import_resume_and_export_from_the_command_line(server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "gifs"
    (folder / "cats" / "angry").mkdir(parents=True)
    (folder / "cats" / "angry" / "hiss_hiss.gif").write_bytes(_gif(1))
    (folder / "cats" / "purr.gif").write_bytes(_gif(2))
    (folder / "top-level.gif").write_bytes(_gif(3))
    (folder / "pretends.gif").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    login = ["--server", server.base_url, "--username", server.username]
    login += ["--password", server.password]
    journal = ["--journal", str(tmp_path / "journal.jsonl")]
    try:
        first = _reactbin(["import", str(folder), *login, *journal, "--jobs", "2"], tmp_path)
        assert first.returncode == 0, first.stderr  # completed, although one file was refused
        assert _count(first.stdout, "uploaded") == 3
        assert _count(first.stdout, "refused by the server") == 1
        assert re.search(r"refused: .*pretends\.gif: .+ \(415\)", first.stdout)
        assert "Traceback" not in first.stderr

        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            items = http.get("/api/v1/images").json()["items"]
        by_title = {item["title"]: item for item in items}
        assert by_title["hiss hiss"]["tags"] == ["cats", "angry"]
        assert by_title["top level"]["tags"] == []

        again = _reactbin(["import", str(folder), *login, *journal], tmp_path)
        assert again.returncode == 0, again.stderr
        assert _count(again.stdout, "uploaded") == 0
        assert _count(again.stdout, "skipped") == 3

        out = tmp_path / "export"
        export = _reactbin(["export", str(out), "--server", server.base_url], tmp_path)
        assert export.returncode == 0, export.stderr
        manifest = json.loads((out / "manifest.json").read_text())
        assert sorted(e["title"] for e in manifest["images"]) == ["hiss hiss", "purr", "top level"]
        for entry in manifest["images"]:
            assert (out / entry["file"]).stat().st_size > 0
    finally:
        _wipe(server)


def test_wrong_password_is_one_line_and_exit_1(server: Server, tmp_path: Path) -> None:
    (tmp_path / "a.gif").write_bytes(_gif(9))
    args = ["import", str(tmp_path / "a.gif"), "--server", server.base_url]
    result = _reactbin([*args, "--username", "owner", "--password", "not-it-at-all"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: wrong username or password for {server.base_url}"
    assert "not-it-at-all" not in result.stdout + result.stderr


def test_unreachable_server_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "a.gif").write_bytes(_gif(10))
    url = f"http://127.0.0.1:{free_port()}"
    result = _reactbin(
        ["import", str(tmp_path / "a.gif"), "--server", url, "--token", "t"], tmp_path
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: cannot reach the server at {url}")
