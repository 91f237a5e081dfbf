"""A visitor in real Chromium: search, open, copy; the same without JavaScript;
hostile titles stay inert."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog, expect

from tests.e2e.browser import Library, chromium, library, open_context, reaction_image
from tests.e2e.conftest import Server

__all__ = ["chromium", "library"]  # fixtures, imported for pytest


def _add(library: Library, caption: str, title: str, frames: int = 1, **fields: str) -> str:
    data = reaction_image(caption, ((80, 120, 220), (20, 30, 90)), (360, 240), frames)
    image = library.add(data, f"{title}.{'gif' if frames > 1 else 'png'}", title=title, **fields)
    return str(image["id"])


def test_visitor_searches_opens_and_copies_the_link(
    chromium: Browser, server: Server, library: Library
) -> None:
    facepalm = _add(
        library, "FACEPALM", "facepalm", frames=3, tags="sigh", description="Hand on face"
    )
    _add(library, "SHRUG", "shrug", tags="dunno")
    _add(library, "HIGH FIVE", "high five", tags="yes")
    context = open_context(chromium, server, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto("/")
        cards = page.locator("#grid .card")
        expect(cards).to_have_count(3)

        # "/" focuses the search box; results arrive as the visitor types.
        page.keyboard.press("/")
        expect(page.locator("#q")).to_be_focused()
        page.keyboard.type("facep", delay=40)
        expect(cards).to_have_count(1)
        expect(page.locator("#status")).to_contain_text("1 results for “facep”")
        expect(page).to_have_url(re.compile(r"/\?q=facep$"))

        # Hover (or focus) plays the animation: the still thumbnail swaps to the GIF.
        image = cards.first.locator("img")
        expect(image).to_have_attribute("src", re.compile("/thumbnail$"))
        cards.first.hover()
        expect(image).to_have_attribute("src", f"/f/{facepalm}.gif")

        # Keyboard: down from the search box to the first result, Enter opens it.
        page.locator("#q").focus()
        page.keyboard.press("ArrowDown")
        expect(cards.first).to_be_focused()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.base_url}/i/{facepalm}")
        expect(page.get_by_role("heading", level=1)).to_have_text("facepalm")
        expect(page.get_by_text("Hand on face")).to_be_visible()

        direct = f"{server.base_url}/f/{facepalm}.gif"
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("#copy-status")).to_have_text("Link copied to the clipboard.")
        assert page.evaluate("navigator.clipboard.readText()") == direct

        page.get_by_role("button", name="Copy Markdown").click()
        assert page.evaluate("navigator.clipboard.readText()") == f"![facepalm]({direct})"
        page.get_by_role("button", name="Copy HTML").click()
        assert page.evaluate("navigator.clipboard.readText()") == (
            f'<img src="{direct}" alt="Hand on face" width="360" height="240">'
        )

        page.evaluate("navigator.clipboard.writeText('something else')")
        page.locator("body").press("c")
        expect(page.locator("#copy-status")).to_have_text("Link copied to the clipboard.")
        assert page.evaluate("navigator.clipboard.readText()") == direct
    finally:
        context.close()


def test_browse_and_search_without_javascript(
    chromium: Browser, server: Server, library: Library
) -> None:
    cat = _add(library, "CAT", "grumpy cat", tags="cat, grumpy")
    _add(library, "DOG", "happy dog", tags="dog")
    context = open_context(chromium, server, javascript=False)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator("#grid .card")).to_have_count(2)
        page.get_by_label("Search reactions").fill("grump")
        page.get_by_label("Search reactions").press("Enter")
        page.wait_for_url(re.compile(r"/\?q=grump$"))
        expect(page.locator("#grid .card")).to_have_count(1)

        page.goto("/")
        page.locator("nav.chips").get_by_role("link", name="dog").click()
        page.wait_for_url(re.compile(r"/\?tag=dog$"))
        expect(page.locator("#grid .card .title")).to_have_text(["happy dog"])

        page.goto("/tags")
        page.get_by_role("link", name="cat", exact=True).click()
        expect(page.locator("#grid .card .title")).to_have_text(["grumpy cat"])
        page.locator("#grid .card").first.click()
        page.wait_for_url(f"{server.base_url}/i/{cat}")
        expect(page.get_by_label("Direct link")).to_have_value(f"{server.base_url}/f/{cat}.png")
        expect(page.get_by_role("link", name="Download")).to_be_visible()
        # The copy buttons need JavaScript: without it they are not offered at all.
        expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    finally:
        context.close()


def test_a_hostile_title_stays_inert(chromium: Browser, server: Server, library: Library) -> None:
    title = "<script>alert(1)</script>"
    description = '"><img src=x onerror=alert(2)>'
    image_id = _add(library, "XSS", title, tags="xss", description=description)
    context = open_context(chromium, server)
    page = context.new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    try:
        page.goto(f"/i/{image_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.locator(".description")).to_have_text(description)
        assert page.title() == f"{title} · reactbin"
        # The same strings through the live search, rendered by JavaScript from JSON.
        page.goto("/")
        page.locator("#q").fill("script")
        expect(page.locator("#grid .card .title")).to_have_text([title])
        expect(page.locator("#grid img")).to_have_attribute("alt", description)
        page.goto(f"/i/{image_id}")
        assert dialogs == []
        assert page.locator("body script").count() == 0
    finally:
        context.close()
