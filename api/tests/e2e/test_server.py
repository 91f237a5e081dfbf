"""The real server over real HTTP: what a newcomer does in the first minutes."""

from __future__ import annotations

import io

import httpx
from PIL import Image as PILImage

from tests.e2e.conftest import Server


def _gif() -> bytes:
    frames = [PILImage.new("P", (48, 32), index * 40) for index in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    return out.getvalue()


def test_login_upload_list_download_delete(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        login = http.post(
            "/api/v1/auth/token", data={"username": server.username, "password": server.password}
        )
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

        data = _gif()
        created = http.post(
            "/api/v1/images",
            headers=auth,
            files={"file": ("party_parrot.gif", data, "image/gif")},
            data={"tags": "party, bird"},
        )
        assert created.status_code == 201, created.text
        image = created.json()
        assert image["title"] == "party parrot"
        assert image["url"] == f"{server.base_url}/f/{image['id']}.gif"

        listed = http.get("/api/v1/images", params={"tag": "bird"}).json()
        assert [item["id"] for item in listed["items"]] == [image["id"]]

        download = http.get(image["url"])
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["content-type"] == "image/gif"
        partial = http.get(image["url"], headers={"Range": "bytes=0-5"})
        assert partial.status_code == 206
        assert partial.content == b"GIF89a"
        assert http.get(image["thumbnail_url"]).headers["content-type"] == "image/webp"

        assert http.delete(f"/api/v1/images/{image['id']}").status_code == 401
        assert http.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204
        assert http.get(image["url"]).status_code == 404
        assert http.get("/api/v1/images").json() == {"items": [], "next_cursor": None}


def test_oversized_upload_is_refused_over_real_http(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", data={"username": server.username, "password": server.password}
        ).json()["access_token"]
        huge = b"\x00" * (21 * 1024 * 1024)
        response = http.post(
            "/api/v1/images",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("huge.gif", b"GIF89a" + huge, "image/gif")},
        )
        assert response.status_code == 413
        assert http.get("/api/v1/images").json()["items"] == []


def test_logs_are_json_lines_with_request_ids(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        http.get("/api/v1/images/AAAAAAAAAA", headers={"X-Request-ID": "e2e-trace-1"})
    assert "e2e-trace-1" not in server.password
    lines = server.log_path.read_text().splitlines()
    assert any('"event": "app.started"' in line for line in lines)
    assert server.password not in server.log_path.read_text()
