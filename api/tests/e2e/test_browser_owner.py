"""The owner in real Chromium: log in, upload many files at once (picked, pasted,
dropped), edit tags, delete; the same essentials without JavaScript; CSRF."""

from __future__ import annotations

import base64
import re

import httpx
from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.e2e.browser import Library, chromium, library, log_in, open_context, reaction_image
from tests.e2e.conftest import Server

__all__ = ["chromium", "library"]  # fixtures, imported for pytest


def _png(caption: str, shade: int) -> bytes:
    return reaction_image(caption, ((shade, 90, 160), (20, shade // 2, 60)), (300, 200))


def _files(*captions: str) -> list[FilePayload]:
    return [
        FilePayload(
            name=f"{caption.lower()}.png", mimeType="image/png", buffer=_png(caption, 40 * n)
        )
        for n, caption in enumerate(captions, start=1)
    ]


def _upload_page(page: Page, server: Server) -> None:
    log_in(page, server)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_url(f"{server.base_url}/upload")


def test_owner_uploads_three_files_edits_tags_and_deletes_one(
    chromium: Browser, server: Server, library: Library
) -> None:
    context = open_context(chromium, server)
    page = context.new_page()
    try:
        _upload_page(page, server)
        page.locator("#file").set_input_files(_files("YES", "NO", "MAYBE"))
        items = page.locator("#queue .item")
        expect(items).to_have_count(3)
        expect(page.locator("#upload-button")).to_have_text("Upload 3 files")
        items.nth(0).get_by_label("Title").fill("a firm yes")
        items.nth(2).get_by_label("Tags").fill("unsure")
        page.get_by_label("Tags (comma-separated)").fill("e2e-batch, answers")
        page.locator("#upload-button").click()

        expect(page.locator("#queue .item.done")).to_have_count(3)
        expect(items.nth(0).locator(".result")).to_contain_text("Uploaded.")
        links = [items.nth(n).get_by_role("link").get_attribute("href") for n in range(3)]
        ids = [str(link).removeprefix("/i/") for link in links]
        images = [library.get(image_id).json() for image_id in ids]
        assert [image["title"] for image in images] == ["a firm yes", "no", "maybe"]
        assert [image["tags"] for image in images] == [
            ["e2e-batch", "answers"],
            ["e2e-batch", "answers"],
            ["e2e-batch", "answers", "unsure"],
        ]

        # The same file again is a duplicate with a link; a fake image is refused with the reason.
        page.locator("#file").set_input_files(
            [
                _files("YES")[0],
                FilePayload(
                    name="fake.gif", mimeType="image/gif", buffer=b"<html>not a gif</html>"
                ),
            ]
        )
        page.locator("#upload-button").click()
        duplicate, fake = items.nth(3), items.nth(4)
        expect(duplicate.locator(".result")).to_contain_text("Already in the library.")
        expect(duplicate.get_by_role("link")).to_have_attribute("href", f"/i/{ids[0]}")
        expect(fake.locator(".result")).to_contain_text("Refused:")
        expect(fake).to_have_class(re.compile("failed"))

        # Edit the tags of the second image.
        items.nth(1).get_by_role("link").click()
        page.wait_for_url(f"{server.base_url}/i/{ids[1]}")
        page.get_by_role("link", name="Edit").click()
        tags = page.get_by_label("Tags (comma-separated)")
        expect(tags).to_have_value("e2e-batch, answers")
        tags.fill("e2e-batch, ans")  # autocomplete offers the completed list
        expect(page.locator("#tag-suggestions option")).to_have_attribute(
            "value", "e2e-batch, answers"
        )
        tags.fill("e2e-batch, negative")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"{server.base_url}/i/{ids[1]}?saved")
        expect(page.get_by_role("status").first).to_have_text("Saved.")
        expect(page.get_by_role("list", name="Tags").get_by_role("link")).to_have_text(
            ["e2e-batch", "negative"]
        )
        assert library.get(ids[1]).json()["tags"] == ["e2e-batch", "negative"]

        # Delete the third, after confirming: it goes to the trash, restorable for 30 days.
        page.goto(f"/i/{ids[2]}/edit")
        expect(page.get_by_role("button", name="Move to trash")).to_be_hidden()
        page.get_by_text("Delete this image…").click()
        expect(page.get_by_text("it can be restored for 30 days")).to_be_visible()
        page.get_by_role("button", name="Move to trash").click()
        page.wait_for_url(f"{server.base_url}/?deleted")
        expect(page.get_by_text("The image was deleted.")).to_be_visible()
        assert library.get(ids[2]).status_code == 404
        assert library.get(ids[0]).status_code == 200
        _restore_then_delete_forever(page, server, library, ids[2])
    finally:
        context.close()


def _restore_then_delete_forever(
    page: Page, server: Server, library: Library, image_id: str
) -> None:
    """The trash page: Restore brings the image back with its id; Delete forever ends it."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trash").click()
    page.wait_for_url(f"{server.base_url}/trash")
    row = page.locator(f".trash-item[data-id='{image_id}']")
    expect(row.locator(".title")).to_have_text("maybe")
    # Its thumbnail is still in the bucket, shown to the owner only.
    expect(row.get_by_role("img")).not_to_have_js_property("naturalWidth", 0)
    row.get_by_role("button", name="Restore maybe").click()
    page.wait_for_url(f"{server.base_url}/trash?restored={image_id}")
    expect(page.get_by_role("status")).to_contain_text("back in the library")
    assert library.get(image_id).json()["title"] == "maybe"
    page.get_by_role("link", name="open it").click()
    page.wait_for_url(f"{server.base_url}/i/{image_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("maybe")

    page.goto(f"/i/{image_id}/edit")
    page.get_by_text("Delete this image…").click()
    page.get_by_role("button", name="Move to trash").click()
    page.wait_for_url(f"{server.base_url}/?deleted")
    page.goto("/trash")
    page.locator(f".trash-item[data-id='{image_id}']").get_by_role(
        "button", name="Delete maybe forever"
    ).click()
    page.wait_for_url(f"{server.base_url}/trash?purged")
    expect(page.get_by_role("status")).to_contain_text("deleted for good")
    expect(page.locator(f".trash-item[data-id='{image_id}']")).to_have_count(0)
    assert library.http.post(f"/api/v1/trash/{image_id}/restore").status_code == 404


def test_owner_pastes_and_drops_files(chromium: Browser, server: Server, library: Library) -> None:
    context = open_context(chromium, server)
    page = context.new_page()
    try:
        _upload_page(page, server)
        pasted, dropped = _png("PASTED", 200), _png("DROPPED", 120)
        page.evaluate(
            """([pasted, dropped]) => {
                const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const file = (b64, name) => new File([bytes(b64)], name, {type: "image/png"});
                const clip = new DataTransfer();
                clip.items.add(file(pasted, "image.png"));
                document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: clip}));
                const drag = new DataTransfer();
                drag.items.add(file(dropped, "dropped.png"));
                document.getElementById("drop").dispatchEvent(
                    new DragEvent("drop", {dataTransfer: drag, bubbles: true, cancelable: true}));
            }""",
            [base64.b64encode(pasted).decode(), base64.b64encode(dropped).decode()],
        )
        items = page.locator("#queue .item")
        expect(items.locator(".name")).to_have_text(["image.png", "dropped.png"])
        page.locator("#upload-button").click()
        expect(page.locator("#queue .item.done")).to_have_count(2)
        titles = {image["title"] for image in library.http.get("/api/v1/images").json()["items"]}
        assert {"image", "dropped"} <= titles
    finally:
        context.close()


def test_owner_without_javascript(chromium: Browser, server: Server, library: Library) -> None:
    context = open_context(chromium, server, javascript=False)
    page = context.new_page()
    try:
        _upload_page(page, server)
        page.get_by_label("Image file").set_input_files(
            {"name": "no_script.png", "mimeType": "image/png", "buffer": _png("NO JS", 90)}
        )
        page.get_by_label("Tags (comma-separated)").fill("plain, form")
        page.get_by_role("button", name="Upload").click()
        page.wait_for_url(re.compile(r"/i/\w+\?uploaded$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("no script")
        image_id = page.url.split("/i/")[1].split("?")[0]

        page.get_by_role("link", name="Edit").click()
        page.get_by_label("Title").fill("works without scripts")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("works without scripts")

        page.get_by_role("link", name="Edit").click()
        page.get_by_text("Delete this image…").click()
        page.get_by_role("button", name="Move to trash").click()
        page.wait_for_url(f"{server.base_url}/?deleted")
        assert library.get(image_id).status_code == 404

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{server.base_url}/")
        expect(page.get_by_role("link", name="Log in")).to_be_visible()
        page.goto("/upload")
        page.wait_for_url(f"{server.base_url}/login?next=/upload")
    finally:
        context.close()


def test_login_form_post_without_csrf_token_is_refused(chromium: Browser, server: Server) -> None:
    context = open_context(chromium, server)
    page = context.new_page()
    try:
        page.goto("/login")
        page.locator('input[name="csrf_token"]').evaluate("input => input.remove()")
        page.get_by_label("Username").fill(server.username)
        page.get_by_label("Password").fill(server.password)
        with page.expect_response(f"{server.base_url}/login") as answer:
            page.get_by_role("button", name="Log in").click()
        assert answer.value.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Refused")
        assert not any(c["name"] == "reactbin_session" for c in context.cookies())
        page.goto("/upload")
        page.wait_for_url(f"{server.base_url}/login?next=/upload")

        # A cross-site page posting the form: no token, and the browser says it is cross-site.
        response = httpx.post(
            f"{server.base_url}/login",
            data={"username": server.username, "password": server.password},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert response.status_code == 403
        assert "reactbin_session" not in response.headers.get("set-cookie", "")
    finally:
        context.close()
