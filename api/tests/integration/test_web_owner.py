"""The owner's forms without JavaScript (upload, edit, delete), the browser's JSON
upload, and the CSRF refusal that stores and changes nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.integration.helpers import State, create_image, gif_bytes, png_bytes
from tests.integration.test_web_auth import csrf_from, csrf_of, owner_web

__all__ = ["owner_web"]  # the fixture, imported for pytest


async def upload_form(
    client: httpx.AsyncClient, data: bytes, filename: str = "cat.png", **fields: str
) -> httpx.Response:
    return await client.post(
        "/upload", files={"file": (filename, data, "application/octet-stream")}, data=fields
    )


async def test_upload_page_is_a_plain_single_file_form(owner_web: httpx.AsyncClient) -> None:
    html = (await owner_web.get("/upload")).text
    form = re.search(r'<form id="upload-form"[^>]*>', html)
    assert form is not None
    assert 'method="post"' in form.group(0)
    assert 'enctype="multipart/form-data"' in form.group(0)
    assert re.search(r'<input id="file" name="file" type="file"[^>]*required>', html)
    for field in ("title", "description", "tags"):
        assert f'name="{field}"' in html
    assert '<label for="file">' in html


async def test_upload_form_without_javascript(
    owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    token = await csrf_from(owner_web, "/upload")
    response = await upload_form(
        owner_web,
        gif_bytes(7),
        "happy_dance.gif",
        csrf_token=token,
        tags="Dance, happy, ",
        description="feet moving",
    )
    assert response.status_code == 303
    image_id = re.fullmatch(r"/i/(\w+)\?uploaded", response.headers["location"])
    assert image_id is not None
    page = await owner_web.get(response.headers["location"])
    assert "Uploaded." in page.text
    image = (await authed_client.get(f"/api/v1/images/{image_id.group(1)}")).json()
    assert image["title"] == "happy dance"
    assert image["tags"] == ["dance", "happy"]
    assert image["description"] == "feet moving"


async def test_upload_without_csrf_token_stores_nothing(
    owner_web: httpx.AsyncClient, state: State
) -> None:
    for fields in ({}, {"csrf_token": "forged"}):
        response = await upload_form(owner_web, png_bytes(8), **fields)
        assert response.status_code == 403
    header = await owner_web.post(
        "/upload",
        files={"file": ("a.png", png_bytes(8))},
        headers={"X-CSRF-Token": "forged", "Accept": "application/json"},
    )
    assert header.status_code == 403
    assert header.json()["detail"].startswith("This form has expired")
    await state.assert_nothing_stored()


async def test_upload_by_a_visitor_is_refused_before_the_body(
    client: httpx.AsyncClient, state: State
) -> None:
    token = await csrf_from(client)
    form = await upload_form(client, png_bytes(9), csrf_token=token)
    assert form.status_code == 303
    assert form.headers["location"] == "/login?next=/upload"
    scripted = await client.post(
        "/upload",
        files={"file": ("a.png", png_bytes(9))},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    assert scripted.status_code == 401
    await state.assert_nothing_stored()


async def test_upload_form_errors_are_shown_on_the_form(
    owner_web: httpx.AsyncClient, state: State
) -> None:
    token = await csrf_from(owner_web, "/upload")
    refused = await upload_form(
        owner_web,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "x.svg",
        csrf_token=token,
        tags="keep",
    )
    assert refused.status_code == 415
    assert 'class="error"' in refused.text
    assert 'value="keep"' in refused.text, "what was typed is kept"
    await state.assert_nothing_stored()

    first = await upload_form(owner_web, png_bytes(10), csrf_token=token)
    assert first.status_code == 303
    existing = first.headers["location"].split("/")[2].split("?")[0]
    again = await upload_form(owner_web, png_bytes(10), csrf_token=token)
    assert again.status_code == 409
    assert f'<a href="/i/{existing}">Open the existing image</a>' in again.text


async def test_script_upload_answers_json(owner_web: httpx.AsyncClient, state: State) -> None:
    token = await csrf_from(owner_web, "/upload")
    headers = {"Accept": "application/json", "X-CSRF-Token": token}

    async def post(data: bytes, name: str, **fields: str) -> httpx.Response:
        return await owner_web.post(
            "/upload", files={"file": (name, data)}, data=fields, headers=headers
        )

    created = await post(png_bytes(11), "one.png", tags="a,b", title="first one")
    assert created.status_code == 201
    body: dict[str, Any] = created.json()
    assert body["title"] == "first one"
    assert body["tags"] == ["a", "b"]
    assert body["page_url"] == f"/i/{body['id']}"
    duplicate = await post(png_bytes(11), "again.png")
    assert duplicate.status_code == 409
    assert duplicate.json()["id"] == body["id"]
    refused = await post(b"%PDF-1.4 not an image", "doc.pdf")
    assert refused.status_code == 415
    assert isinstance(refused.json()["detail"], str)
    assert await state.row_count() == 1


async def test_edit_form(owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient) -> None:
    image = await create_image(authed_client, title="old", tags="one, two")
    page = await owner_web.get(f"/i/{image['id']}/edit")
    assert page.status_code == 200
    assert 'value="one, two"' in page.text
    response = await owner_web.post(
        f"/i/{image['id']}/edit",
        data={
            "csrf_token": csrf_of(page.text),
            "title": "  new   title ",
            "description": "now described",
            "tags": "Three, one,, three",
            "ocr_text": "WORDS",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/i/{image['id']}?saved"
    updated = (await authed_client.get(f"/api/v1/images/{image['id']}")).json()
    assert updated["title"] == "new title"
    assert updated["description"] == "now described"
    assert updated["tags"] == ["three", "one"]
    assert updated["ocr_text"] == "WORDS"
    assert "Saved." in (await owner_web.get(response.headers["location"])).text


async def test_edit_without_csrf_changes_nothing(
    owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, title="keep me", tags="keep")
    for fields in ({}, {"csrf_token": "nope"}):
        response = await owner_web.post(
            f"/i/{image['id']}/edit", data={**fields, "title": "changed", "tags": "x"}
        )
        assert response.status_code == 403
    after = (await authed_client.get(f"/api/v1/images/{image['id']}")).json()
    assert (after["title"], after["tags"]) == ("keep me", ["keep"])


async def test_invalid_edit_shows_the_errors_and_changes_nothing(
    owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client, title="valid")
    token = await csrf_from(owner_web, f"/i/{image['id']}/edit")
    too_many = ", ".join(f"t{n}" for n in range(21))
    response = await owner_web.post(
        f"/i/{image['id']}/edit",
        data={"csrf_token": token, "title": " ", "description": "", "tags": too_many},
    )
    assert response.status_code == 422
    assert "title must not be empty." in response.text
    assert "at most 20 tags" in response.text
    assert f'value="{too_many}"' in response.text, "what was typed is kept"
    assert (await authed_client.get(f"/api/v1/images/{image['id']}")).json()["title"] == "valid"


async def test_edit_of_an_unknown_image_is_404(owner_web: httpx.AsyncClient) -> None:
    assert (await owner_web.get("/i/AAAAAAAAAA/edit")).status_code == 404
    token = await csrf_from(owner_web, "/upload")
    response = await owner_web.post(
        "/i/AAAAAAAAAA/edit", data={"csrf_token": token, "title": "x", "tags": ""}
    )
    assert response.status_code == 404


async def test_delete_with_confirmation(
    owner_web: httpx.AsyncClient, authed_client: httpx.AsyncClient, state: State
) -> None:
    image = await create_image(authed_client, title="to the bin")
    page = await owner_web.get(f"/i/{image['id']}/edit")
    assert "it can be restored for 30 days" in page.text
    token = csrf_of(page.text)
    response = await owner_web.post(f"/i/{image['id']}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/?deleted"
    assert "The image was deleted." in (await owner_web.get("/?deleted")).text
    assert (await owner_web.get(f"/i/{image['id']}")).status_code == 404

    trash = await owner_web.get("/trash")
    assert trash.status_code == 200
    assert "to the bin" in trash.text
    assert (await owner_web.get(f"/trash/{image['id']}/thumbnail")).status_code == 200
    restore = await owner_web.post(f"/trash/{image['id']}/restore", data={"csrf_token": token})
    assert restore.status_code == 303
    assert (await owner_web.get(f"/i/{image['id']}")).status_code == 200

    await owner_web.post(f"/i/{image['id']}/delete", data={"csrf_token": token})
    assert (await owner_web.post(f"/trash/{image['id']}/delete", data={})).status_code == 403
    purge = await owner_web.post(f"/trash/{image['id']}/delete", data={"csrf_token": token})
    assert purge.status_code == 303
    assert "The trash is empty." in (await owner_web.get("/trash")).text
    await state.assert_nothing_stored()


async def test_delete_without_csrf_keeps_the_image(
    owner_web: httpx.AsyncClient, client: httpx.AsyncClient, authed_client: httpx.AsyncClient
) -> None:
    image = await create_image(authed_client)
    assert (await owner_web.post(f"/i/{image['id']}/delete", data={})).status_code == 403
    anonymous = await client.post(f"/i/{image['id']}/delete", data={})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    assert (await authed_client.get(f"/api/v1/images/{image['id']}")).status_code == 200
