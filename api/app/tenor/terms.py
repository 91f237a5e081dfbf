"""Tenor's term routes: categories, autocomplete, search suggestions, trending terms."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from app.pagination import CursorCodec
from app.search import service as search_service
from app.tenor import repository
from app.tenor.media import StoredMedia, media_formats, original_url
from app.tenor.schemas import CategoriesPage, Category, TermsPage

# Matches read for search suggestions: enough for a varied set of related tags.
SUGGESTION_SOURCE_ROWS = 30


async def categories(session: AsyncSession, base_url: str, limit: int) -> CategoriesPage:
    """The most used tags, each pictured by its newest image (small animated file)."""
    rows = await repository.top_tags_with_newest_image(session, limit=limit)
    stored = await repository.stored_media(session, [image.id for _, image in rows])
    tags = []
    for name, image in rows:
        media = stored.get(image.id, StoredMedia(thumbnail_bytes=0))
        formats = media_formats(image, media, base_url, frozenset({"tinygif"}))
        picture = (
            formats["tinygif"]["url"] if "tinygif" in formats else original_url(image, base_url)
        )
        tags.append(
            Category(
                searchterm=name,
                path=f"/v2/search?q={quote(name)}",
                image=picture,
                name=f"#{name}",
            )
        )
    return CategoriesPage(tags=tags)


def _unique(terms: list[str], limit: int, *, exclude: str = "") -> list[str]:
    seen = {exclude.lower()} if exclude else set()
    kept = []
    for term in terms:
        if term.lower() not in seen:
            seen.add(term.lower())
            kept.append(term)
    return kept[:limit]


async def autocomplete(session: AsyncSession, prefix: str, limit: int) -> TermsPage:
    """Tags starting with the text (most used first), then other words of the library."""
    text = " ".join(prefix.lower().split())
    if not text:
        return TermsPage(results=[])
    terms = await repository.tags_starting_with(session, text, limit=limit)
    if len(terms) < limit:
        terms += await repository.words_starting_with(session, text, limit=limit)
    return TermsPage(results=_unique(terms, limit))


async def search_suggestions(
    session: AsyncSession, codec: CursorCodec, query: str, limit: int
) -> TermsPage:
    """Tags of the best matches (most frequent first), then their titles."""
    if not query.strip():
        return TermsPage(results=[])
    images, _ = await search_service.list_images(
        session, codec, tags=(), limit=SUGGESTION_SOURCE_ROWS, cursor=None, query=query
    )
    counts: dict[str, int] = {}
    for image in images:
        for tag in image.tag_names:
            counts[tag] = counts.get(tag, 0) + 1
    by_use = sorted(counts, key=lambda tag: -counts[tag])  # stable: ties keep rank order
    titles = [image.title for image in images]
    return TermsPage(results=_unique(by_use + titles, limit, exclude=query.strip()))


async def trending_terms(session: AsyncSession, limit: int) -> TermsPage:
    return TermsPage(results=await repository.most_used_tags(session, limit=limit))
