"""Read a Gifable library (github.com/pietvanzoen/gifable) through its JSON API.

`GET <gifable>/api/media` with `Authorization: Bearer <API token>` (the token from
the Gifable user's settings page) answers with every media item of that user::

    {"data": [{"id": "<uuid>", "url": "https://gifable.example/media/<uuid>/image",
               "thumbnailUrl": "...", "labels": "dog, fire, this is fine",
               "altText": "a dog in a burning room", "width": 480, "height": 270,
               "color": "#...", "user": {"username": "..."}}, ...]}

Older Gifable versions call `labels` `comment`, and their `url` is the bucket URL
of the file (`.../<user>/this-is-fine.gif`). Gifable has no title: it shows the file
name, so the title comes from the URL's file name when it has one, else from the
first label. Labels (comma-separated) become tags; a label too long to be a tag,
or past the 20th, is kept in the description instead of being lost. Alt text
becomes the description.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

from app.transfer.client import TransferError
from app.transfer.sources import IMAGE_SUFFIXES, Item, Loader, merge_tags, title_from_name

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class GifableMedia:
    id: str
    url: str
    labels: tuple[str, ...]
    alt_text: str


def parse_media(payload: Any, base_url: str) -> list[GifableMedia]:
    items = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise TransferError("the Gifable answer has no media list (is this a Gifable server?)")
    media = []
    for raw in items:
        if not isinstance(raw, dict) or not raw.get("url") or not raw.get("id"):
            continue
        labels = str(raw.get("labels") or raw.get("comment") or "")
        media.append(
            GifableMedia(
                id=str(raw["id"]),
                url=urljoin(base_url + "/", str(raw["url"])),
                labels=tuple(" ".join(p.split()) for p in labels.split(",") if p.strip()),
                alt_text=str(raw.get("altText") or "").strip(),
            )
        )
    return media


def describe(media: GifableMedia, extra_tags: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """(tags, description): labels that cannot be tags end up in the description."""
    fitting = [label for label in media.labels if len(label) <= MAX_TAG_LENGTH]
    room = MAX_TAGS - len(merge_tags(extra_tags))  # the --tag values always fit
    tags = merge_tags(merge_tags(fitting)[: max(room, 0)], extra_tags)
    kept = {tag.lower() for tag in tags}
    leftover = [label for label in media.labels if label.lower() not in kept]
    description = media.alt_text
    if leftover:
        note = "Gifable labels: " + ", ".join(leftover)
        description = f"{description}\n\n{note}" if description else note
    return tags, description[:MAX_DESCRIPTION]


def _file_name(media: GifableMedia) -> str | None:
    name = PurePosixPath(urlsplit(media.url).path).name
    return name if PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES else None


class GifableSource:
    """The media list and the downloads, over one HTTP client."""

    def __init__(
        self, base_url: str, token: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = urlsplit(self.base_url)[:2]
        self._token = token
        self._http = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(120.0, connect=10.0), follow_redirects=True
        )

    async def __aenter__(self) -> GifableSource:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._http.aclose()

    def _headers(self, url: str) -> dict[str, str]:
        # The API token goes to the Gifable server only, never to a bucket elsewhere.
        same_origin = urlsplit(url)[:2] == self._origin
        return {"Authorization": f"Bearer {self._token}"} if same_origin else {}

    async def _get(self, url: str) -> httpx.Response:
        try:
            return await self._http.get(url, headers=self._headers(url))
        except httpx.TransportError as exc:
            raise TransferError(f"cannot reach {url} ({exc or type(exc).__name__})") from None

    async def media(self) -> list[GifableMedia]:
        url = f"{self.base_url}/api/media"
        response = await self._get(url)
        if response.status_code == 401:
            raise TransferError("Gifable refused the API token (see its settings page)")
        if response.status_code != 200:
            raise TransferError(f"Gifable answered {response.status_code} for {url}")
        try:
            payload = response.json()
        except ValueError:
            raise TransferError(f"{url} did not answer JSON (is this a Gifable server?)") from None
        return parse_media(payload, self.base_url)

    def _loader(self, media: GifableMedia) -> Loader:
        async def load() -> tuple[bytes, str]:
            response = await self._get(media.url)
            if response.status_code != 200:
                raise TransferError(f"downloading {media.url}: HTTP {response.status_code}")
            data = response.content
            return data, await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())

        return load

    def items(self, media: list[GifableMedia], extra_tags: tuple[str, ...] = ()) -> list[Item]:
        items = []
        for entry in media:
            name = _file_name(entry)
            tags, description = describe(entry, extra_tags)
            title = (title_from_name(name) if name else None) or (
                entry.labels[0][:200] if entry.labels else f"gifable {entry.id[:8]}"
            )
            items.append(
                Item(
                    label=entry.url,
                    filename=name or f"{entry.id}.gif",
                    load=self._loader(entry),
                    title=title,
                    description=description or None,
                    tags=tags,
                )
            )
        return items
