"""Every page fits a 390 px phone without sideways scrolling, stays light, and is
photographed for the docs.

Screenshots go to a temporary directory; set REACTBIN_SCREENSHOTS_DIR (for example
to ../docs/screenshots) to refresh the ones in the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.e2e.browser import (
    Library,
    chromium,
    library,
    log_in,
    open_context,
    reaction_image,
    seed,
)
from tests.e2e.conftest import Server

__all__ = ["chromium", "library"]  # fixtures, imported for pytest

PAGE_BUDGET = 60 * 1024


def _fits(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def _weight(page: Page) -> int:
    """HTML + CSS + JS bytes of the page as loaded (images excluded)."""
    total: int = page.evaluate(
        """() => {
            const nav = performance.getEntriesByType("navigation")[0];
            const assets = performance.getEntriesByType("resource")
                .filter((r) => r.initiatorType === "link" || r.initiatorType === "script");
            return [nav, ...assets].reduce((sum, r) => sum + r.decodedBodySize, 0);
        }"""
    )
    return total


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("[...document.images].every((img) => img.complete)")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = os.environ.get("REACTBIN_SCREENSHOTS_DIR")
    directory = Path(target) if target else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_pages_fit_weigh_little_and_are_photographed(
    chromium: Browser, server: Server, library: Library, shots: Path, device: str
) -> None:
    images = seed(library)
    fine = images[0]
    phone = device == "phone"
    context = open_context(
        chromium, server, phone=phone, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    try:
        page.goto("/")
        _settle(page)
        expect(page.locator("#grid .card")).to_have_count(len(images))
        _fits(page)
        assert _weight(page) < PAGE_BUDGET
        page.screenshot(path=shots / f"gallery-{device}.png")

        page.goto("/?q=fi")
        _settle(page)
        _fits(page)

        page.goto(f"/i/{fine['id']}")
        _settle(page)
        _fits(page)
        assert _weight(page) < PAGE_BUDGET
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("#copy-status")).to_have_text("Link copied to the clipboard.")
        page.mouse.move(0, 0)
        page.screenshot(path=shots / f"detail-{device}.png")

        for path in ("/tags", "/login", "/i/AAAAAAAAAA"):
            page.goto(path)
            _fits(page)

        log_in(page, server)
        for path in (f"/i/{fine['id']}/edit", "/logout"):
            page.goto(path)
            _settle(page)
            _fits(page)

        page.goto("/upload")
        files = [
            FilePayload(
                name=f"{caption.lower().replace(' ', '_')}.png",
                mimeType="image/png",
                buffer=reaction_image(caption, colors, (360, 240)),
            )
            for caption, colors in (
                ("FRIDAY DEPLOY", ((250, 120, 40), (120, 20, 10))),
                ("IT WORKS", ((60, 200, 140), (10, 90, 70))),
                ("FACEPALM", ((90, 160, 250), (30, 60, 160))),
            )
        ]
        page.locator("#file").set_input_files(files)
        page.get_by_label("Tags (comma-separated)").fill("work, mood")
        page.locator("#queue .item").nth(0).get_by_label("Tags").fill("friday")
        _settle(page)
        _fits(page)
        assert _weight(page) < PAGE_BUDGET
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        page.screenshot(path=shots / f"upload-{device}.png", full_page=not phone)

        if not phone:
            dark = open_context(chromium, server, color_scheme="dark")
            try:
                dark_page = dark.new_page()
                dark_page.goto("/")
                _settle(dark_page)
                dark_page.screenshot(path=shots / "gallery-dark-desktop.png")
            finally:
                dark.close()
    finally:
        context.close()
