"""Renditions in real Chromium: the grid plays the small video on hover, and the
detail page copies the MP4 link."""

from __future__ import annotations

import subprocess

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.browser import Library, chromium, library, open_context, reaction_image
from tests.e2e.conftest import Server, _reactbin

__all__ = ["chromium", "library"]  # fixtures, imported for pytest


def _build_renditions(server: Server) -> None:
    """What the worker does after an upload (the test server runs none): `--now` here."""
    done = subprocess.run(
        [_reactbin(), "renditions", "--now"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_hover_plays_the_small_video_and_detail_copies_the_mp4_link(
    chromium: Browser, server: Server, library: Library
) -> None:
    data = reaction_image("NOPE", ((200, 80, 60), (90, 20, 10)), (360, 240), frames=3)
    animated = library.add(data, "nope.gif", title="nope")
    still = library.add(reaction_image("OK", ((60, 160, 90), (10, 60, 30)), (360, 240)), "ok.png")
    _build_renditions(server)
    context = open_context(chromium, server, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto("/")
        card = page.locator(f'#grid .card[href="/i/{animated["id"]}"]')
        card.hover()
        video = card.locator("video.anim")
        expect(video).to_have_count(1)
        page.wait_for_function(
            "(v) => v.readyState >= 2 && !v.paused && v.currentSrc.includes('/tiny')",
            arg=video.element_handle(),
        )
        # The small rendition plays; the <img> keeps its light thumbnail.
        expect(card.locator("img")).to_have_attribute(
            "src", f"/api/v1/images/{animated['id']}/thumbnail"
        )
        page.mouse.move(0, 0)
        expect(video).to_have_count(0)

        page.goto(f"/i/{animated['id']}")
        mp4 = f"{server.base_url}/f/{animated['id']}/mp4.mp4"
        page.get_by_role("button", name="Copy MP4 link").click()
        expect(page.locator("#copy-status")).to_have_text("MP4 link copied to the clipboard.")
        assert page.evaluate("navigator.clipboard.readText()") == mp4
        served = httpx.get(mp4)
        assert served.status_code == 200
        assert served.headers["content-type"] == "video/mp4"

        page.goto(f"/i/{still['id']}")  # a still has no video rendition
        expect(page.get_by_role("button", name="Copy link")).to_be_visible()
        expect(page.get_by_role("button", name="Copy MP4 link")).to_have_count(0)
    finally:
        context.close()
