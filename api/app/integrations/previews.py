"""What every chat app shows: the best match for the words (the gallery's own
ranked search), the next one, and a share counted when one is sent."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import NotFound
from app.images import service as images_service
from app.images.rows import ImageRecord
from app.integrations.state import StateCodec
from app.pagination import CursorCodec
from app.renditions import repository as renditions_repository
from app.renditions.formats import rendition_path
from app.search import service as search_service
from app.tenor import service as tenor_service
from app.tenor.media import original_url

MAX_WORDS_LENGTH = 100
GONE_SENTENCE = "That reaction is no longer in the library."
# "Next" past this many matches says there are no more: each Next reads the
# matches up to its position again, so the position is bounded to stay cheap.
MAX_POSITION = 50
# Characters that no search word holds and PostgreSQL cannot store (NUL, lone
# surrogates): dropped, never a 500.
_DROPPED = {"Cc", "Cs"}
BLOCK_IMAGE_TYPES = frozenset({"image/gif", "image/png", "image/jpeg"})


@dataclass(frozen=True)
class Match:
    words: str
    position: int
    image_id: str
    title: str
    url: str

    # What an image block can show: Slack's takes GIF, PNG and JPEG only, so a
    # WebP original is shown through its GIF rendition (None until it is made).
    picture_url: str | None = None

    @property
    def alt_text(self) -> str:
        return self.title or "reaction image"


def clean_words(text: str, limit: int = MAX_WORDS_LENGTH) -> str:
    """The words as searched: control characters dropped, spaces collapsed, bounded."""
    kept = "".join(" " if unicodedata.category(c) in _DROPPED else c for c in text)
    return " ".join(kept.split())[:limit].strip()


def new_nonce() -> str:
    """Marks one preview: its Send is acted on once, however often it arrives."""
    return secrets.token_hex(8)


async def find_match(
    session: AsyncSession, codec: CursorCodec, base_url: str, words: str, position: int = 0
) -> Match | None:
    """The match at `position` (0: the best) of the gallery's search, or None."""
    if not words or not 0 <= position < MAX_POSITION:
        return None
    images, _ = await search_service.list_images(
        session, codec, tags=(), limit=position + 1, cursor=None, query=words
    )
    if len(images) <= position:
        return None
    return await _match(session, images[position], base_url, words, position)


async def send(session: AsyncSession, base_url: str, image_id: str, words: str) -> Match | None:
    """The image being sent, its share counted (as Tenor's `registershare`); None when
    it has left the library since the preview."""
    try:
        image = await images_service.read_image(session, image_id)
        await tenor_service.register_share(session, image_id)
    except NotFound:
        return None
    return await _match(session, image, base_url, words, 0)


async def _match(
    session: AsyncSession, image: ImageRecord, base_url: str, words: str, position: int
) -> Match:
    url = original_url(image, base_url)
    picture: str | None = url
    if image.mime_type not in BLOCK_IMAGE_TYPES:
        gif = await renditions_repository.get(session, image.id, "gif")
        picture = base_url + rendition_path(image.id, "gif", gif.mime_type) if gif else None
    return Match(words, position, image.id, image.title, url, picture)


def no_match_sentence(words: str) -> str:
    if not words:
        return "Type some words after /reaction, for example: /reaction this is fine"
    return f"No reaction matches “{words}”."


def no_more_sentence(words: str) -> str:
    return f"No more reactions match “{words}”."


@dataclass(frozen=True)
class Chat:
    """What a chat request is handled with: its transaction, codecs and settings."""

    session: AsyncSession
    cursors: CursorCodec
    states: StateCodec
    settings: Settings

    @property
    def per_minute(self) -> int:
        return self.settings.integrations_requests_per_minute

    async def find(self, words: str, position: int = 0) -> Match | None:
        base = self.settings.api_base_url
        return await find_match(self.session, self.cursors, base, words, position)

    async def send(self, image_id: str, words: str) -> Match | None:
        return await send(self.session, self.settings.api_base_url, image_id, words)
