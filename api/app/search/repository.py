"""Ranked search SQL: full-text match, relevance order, keyset paging."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import reduce

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from app.images.models import Image
from app.images.repository import having_all_tags, with_tags
from app.search.models import SearchWord
from app.search.query import ParsedQuery

ENGLISH: ColumnElement[str] = literal_column("'english'::regconfig")
SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")
MAX_EDITS = 2
# Loose enough that a two-letter swap in a short word ("shurg") still shares
# trigrams with the right word; levenshtein() then keeps only real near-misses.
TYPO_TRIGRAM_THRESHOLD = "0.15"


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


async def typo_corrections(session: AsyncSession, word: str) -> list[str]:
    """Library words within two edits of `word`, when nothing in the library starts with it."""
    plain = _strip_accents(word)
    if len(plain) < 4:
        return []
    prefix = plain.replace("\\\\", "").replace("%", "").replace("_", "") + "%"
    known = await session.execute(
        select(SearchWord.word).where(SearchWord.word.like(prefix)).limit(1)
    )
    if known.first() is not None:
        return []
    await session.execute(
        text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
        {"t": TYPO_TRIGRAM_THRESHOLD},
    )
    distance = func.levenshtein(SearchWord.word, plain)
    rows = await session.execute(
        select(SearchWord.word)
        .where(SearchWord.word.op("%")(plain), distance <= MAX_EDITS)
        .order_by(distance, SearchWord.word.op("<->")(plain))
        .limit(3)
    )
    return list(rows.scalars())


def _word_query(word: str, corrections: Sequence[str]) -> ColumnElement[str]:
    unaccented = func.reactbin_unaccent(literal(word))
    alternatives: list[ColumnElement[str]] = [
        func.plainto_tsquery(ENGLISH, unaccented, type_=TSQUERY),
        func.to_tsquery(SIMPLE, func.concat(unaccented, ":*"), type_=TSQUERY),
    ]
    alternatives += [func.plainto_tsquery(SIMPLE, literal(c), type_=TSQUERY) for c in corrections]
    return reduce(lambda a, b: a.op("||", return_type=TSQUERY)(b), alternatives)


async def build_tsquery(session: AsyncSession, parsed: ParsedQuery) -> ColumnElement[str]:
    if parsed.advanced:
        return func.websearch_to_tsquery(
            ENGLISH, func.reactbin_unaccent(literal(parsed.text)), type_=TSQUERY
        )
    parts = [_word_query(w, await typo_corrections(session, w)) for w in parsed.words]
    return reduce(lambda a, b: a.op("&&", return_type=TSQUERY)(b), parts)


async def search(
    session: AsyncSession,
    tsquery: ColumnElement[str],
    *,
    tags: Sequence[str],
    limit: int,
    after: tuple[float, datetime, str] | None,
) -> list[tuple[Image, float]]:
    """Best match first; equal relevance newest first; keyset on (rank, created_at, id)."""
    rank = func.ts_rank(Image.search_vector, tsquery)
    statement: Select[Image, float] = select(Image, rank).where(
        Image.search_vector.op("@@")(tsquery)
    )
    statement = having_all_tags(statement, tags)
    if after is not None:
        statement = statement.where(tuple_(rank, Image.created_at, Image.id) < tuple_(*after))
    statement = statement.order_by(rank.desc(), Image.created_at.desc(), Image.id.desc()).limit(
        limit
    )
    result = await session.execute(with_tags(statement))
    return [(image, float(score)) for image, score in result.all()]
