"""Browser-test fixtures: Debian's Chromium driven by Playwright's sync API, an
owner API client, and meme-like sample images drawn with Pillow.

Playwright is driven directly (not through pytest-playwright's fixtures) so the
launch options of this machine live in one place and each test can choose its
own context (JavaScript off, a phone viewport, clipboard permissions).
Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.conftest import Server

CHROMIUM = os.environ.get("REACTBIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium(server: Server) -> Iterator[Browser]:
    """One browser per test module. While Playwright's sync API runs, its event loop
    counts as running in this thread, so `asyncio.run` (the server fixture) and
    pytest-asyncio cannot: the server starts first, and the browser stops at the
    end of each module so async tests collected after it still run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make system-deps)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_context(
    browser: Browser, server: Server, *, javascript: bool = True, phone: bool = False, **extra: Any
) -> BrowserContext:
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "viewport": PHONE if phone else DESKTOP,
        "java_script_enabled": javascript,
        "color_scheme": "light",
        **extra,
    }
    if phone:
        options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def page(chromium: Browser, server: Server) -> Iterator[Page]:
    context = open_context(chromium, server)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Page, server: Server) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(server.username)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.base_url}/")


@dataclass
class Library:
    """The owner's API client; removes at teardown every image a test added, so the
    shared server is left as the test found it."""

    http: httpx.Client
    before: set[str] = field(default_factory=set)

    def ids(self) -> set[str]:
        found: set[str] = set()
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            body = self.http.get("/api/v1/images", params=params).json()
            found.update(item["id"] for item in body["items"])
            if not (cursor := body["next_cursor"]):
                return found

    def add(self, data: bytes, filename: str, **fields: str) -> dict[str, Any]:
        response = self.http.post(
            "/api/v1/images", files={"file": (filename, data, "image/png")}, data=fields
        )
        assert response.status_code == 201, response.text
        image: dict[str, Any] = response.json()
        return image

    def get(self, image_id: str) -> httpx.Response:
        return self.http.get(f"/api/v1/images/{image_id}")

    def clean_up(self) -> None:
        for image_id in self.ids() - self.before:
            self.http.delete(f"/api/v1/images/{image_id}")
        # And out of the trash: a later test may upload the same bytes afresh.
        trashed = self.http.get("/api/v1/trash", params={"limit": 100}).json()["items"]
        for item in trashed:
            self.http.delete(f"/api/v1/trash/{item['id']}")


@pytest.fixture
def library(server: Server) -> Iterator[Library]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", data={"username": server.username, "password": server.password}
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        lib = Library(http)
        lib.before = lib.ids()
        try:
            yield lib
        finally:
            lib.clean_up()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def reaction_image(
    caption: str,
    colors: tuple[tuple[int, int, int], tuple[int, int, int]],
    size: tuple[int, int] = (480, 320),
    frames: int = 1,
) -> bytes:
    """A meme-like picture: a gradient, a face, and a white caption with a black
    outline; with `frames` > 1 an animated GIF whose face bounces."""
    width, height = size
    font = _font(max(18, min(52, int(width * 1.6 / max(len(caption), 6)))))
    shots = []
    for index in range(frames):
        image = PILImage.new("RGB", size)
        draw = ImageDraw.Draw(image)
        top, bottom = colors
        for y in range(height):
            t = y / max(height - 1, 1)
            draw.line(
                [(0, y), (width, y)],
                fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
            )
        lift = int(12 * math.sin(2 * math.pi * index / max(frames, 1)))
        cx, cy, r = width // 2, height // 2 - 10 - lift, min(width, height) // 5
        draw.ellipse(
            [cx - r, cy - r, cx + r, cy + r], fill=(255, 214, 64), outline=(60, 40, 0), width=4
        )
        for dx in (-r // 3, r // 3):
            draw.ellipse(
                [cx + dx - 6, cy - r // 3 - 6, cx + dx + 6, cy - r // 3 + 6], fill=(40, 30, 0)
            )
        draw.arc(
            [cx - r // 2, cy - r // 4, cx + r // 2, cy + r // 2], 20, 160, fill=(40, 30, 0), width=5
        )
        draw.text(
            (width // 2, height - 16),
            caption,
            font=font,
            anchor="ms",
            fill="white",
            stroke_width=3,
            stroke_fill="black",
        )
        shots.append(image)
    out = io.BytesIO()
    if frames > 1:
        palette = [shot.convert("P", palette=PILImage.Palette.ADAPTIVE) for shot in shots]
        palette[0].save(out, "GIF", save_all=True, append_images=palette[1:], duration=90, loop=0)
    else:
        shots[0].save(out, "PNG")
    return out.getvalue()


SAMPLES: list[dict[str, Any]] = [
    {
        "caption": "THIS IS FINE",
        "colors": ((250, 120, 40), (120, 20, 10)),
        "frames": 6,
        "title": "this is fine",
        "description": "A calm face while everything around it burns",
        "tags": "fine, fire, calm",
    },
    {
        "caption": "WHO KNOWS?",
        "colors": ((90, 160, 250), (30, 60, 160)),
        "title": "shrug",
        "description": "Who knows? Not me.",
        "tags": "shrug, dunno",
    },
    {
        "caption": "SHIP IT",
        "colors": ((60, 200, 140), (10, 90, 70)),
        "frames": 4,
        "title": "ship it",
        "description": "Merged on a Friday afternoon",
        "tags": "ship, deploy, friday",
    },
    {
        "caption": "NOPE",
        "colors": ((240, 80, 120), (110, 10, 50)),
        "title": "nope",
        "description": "",
        "tags": "nope, no",
    },
    {
        "caption": "MIND BLOWN",
        "colors": ((160, 90, 250), (60, 20, 130)),
        "size": (400, 400),
        "title": "mind blown",
        "description": "Head exploding with surprise",
        "tags": "wow, surprise",
    },
    {
        "caption": "LGTM",
        "colors": ((250, 220, 90), (200, 120, 20)),
        "size": (480, 270),
        "title": "looks good to me",
        "description": "Thumbs up for the pull request",
        "tags": "review, approve",
    },
    {
        "caption": "SLOW CLAP",
        "colors": ((110, 110, 130), (30, 30, 45)),
        "frames": 4,
        "title": "slow clap",
        "description": "Sarcastic applause",
        "tags": "clap, sarcasm",
    },
    {
        "caption": "COFFEE FIRST",
        "colors": ((180, 130, 90), (70, 40, 20)),
        "size": (320, 400),
        "title": "coffee first",
        "description": "Not a morning person",
        "tags": "coffee, morning",
    },
]


def seed(library: Library, samples: list[dict[str, Any]] = SAMPLES) -> list[dict[str, Any]]:
    images = []
    for sample in samples:
        frames = int(sample.get("frames", 1))
        data = reaction_image(
            sample["caption"], sample["colors"], sample.get("size", (480, 320)), frames
        )
        extension = "gif" if frames > 1 else "png"
        images.append(
            library.add(
                data,
                f"{sample['title']}.{extension}",
                title=sample["title"],
                description=sample["description"],
                tags=sample["tags"],
            )
        )
    return images
