"""Ranked search SQL: full-text match, relevance order, keyset paging."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import TSQUERY as TSQUERY_TYPE
from sqlalchemy.ext.asyncio import AsyncSession

from app.images.models import Image
from app.images.repository import RECORD_COLUMNS, having_all_tags, records
from app.images.rows import ImageRecord
from app.search.models import SearchWord
from app.search.query import ParsedQuery

# One instance: a type given as a class is instantiated (signature inspection
# included) every time an expression is built, which was a third of a search's CPU.
TSQUERY = TSQUERY_TYPE()
TEXT = Text()
ENGLISH: ColumnElement[str] = literal_column("'english'::regconfig")
SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")
MAX_EDITS = 2
# Loose enough that a two-letter swap in a short word ("shurg") still shares
# trigrams with the right word; levenshtein() then keeps only real near-misses.
TYPO_TRIGRAM_THRESHOLD = "0.15"


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# A word that some library word starts with never needs corrections, and words
# only ever enter the vocabulary: remembering that (and corrections found) for a
# minute saves most searches one to three round trips. Not remembered: "no
# correction", which the next upload may change. Per process, bounded.
CORRECTIONS_TTL_S = 60.0
_CORRECTIONS_MAX = 4096
_corrections: dict[str, tuple[float, list[str]]] = {}


async def typo_corrections(session: AsyncSession, word: str) -> list[str]:
    """Library words within two edits of `word`, when nothing in the library starts with it."""
    plain = _strip_accents(word)
    if len(plain) < 4:
        return []
    now = time.monotonic()
    cached = _corrections.get(plain)
    if cached is not None and now - cached[0] < CORRECTIONS_TTL_S:
        return list(cached[1])
    known, found = await _find_corrections(session, plain)
    if known or found:
        if len(_corrections) >= _CORRECTIONS_MAX:
            _corrections.clear()
        _corrections[plain] = (now, found)
    return list(found)


async def _find_corrections(session: AsyncSession, plain: str) -> tuple[bool, list[str]]:
    """(a library word starts with `plain`, the corrections)."""
    prefix = plain.replace("\\\\", "").replace("%", "").replace("_", "") + "%"
    known = await session.execute(
        select(SearchWord.word).where(SearchWord.word.like(prefix)).limit(1)
    )
    if known.first() is not None:
        return True, []
    # For the transaction when there is one: then it cannot reach another client of
    # a transaction-mode pooler's server connection (DATABASE_POOLER=transaction
    # reads in transactions, app/db.py). Reads otherwise run without one: for the
    # connection then (nothing else on these connections uses `%`).
    connection = (await session.connection()).sync_connection
    options = connection.get_execution_options() if connection is not None else {}
    autocommit = options.get("isolation_level") == "AUTOCOMMIT"
    await session.execute(
        text("SELECT set_config('pg_trgm.similarity_threshold', :t, :local)"),
        {"t": TYPO_TRIGRAM_THRESHOLD, "local": not autocommit},
    )
    distance = func.levenshtein(SearchWord.word, plain)
    rows = await session.execute(
        select(SearchWord.word)
        .where(SearchWord.word.op("%")(plain), distance <= MAX_EDITS)
        .order_by(distance, SearchWord.word.op("<->")(plain))
        .limit(3)
    )
    return False, list(rows.scalars())


def _word_query(word: str, corrections: Sequence[str]) -> ColumnElement[str]:
    unaccented = func.reactbin_unaccent(literal(word), type_=TEXT)
    alternatives: list[ColumnElement[str]] = [
        func.plainto_tsquery(ENGLISH, unaccented, type_=TSQUERY),
        # `||`, not concat() (only stable): the planner sees the folded tsquery
        # and can estimate how many rows match.
        func.to_tsquery(SIMPLE, unaccented + ":*", type_=TSQUERY),
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
) -> list[tuple[ImageRecord, float]]:
    """Best match first; equal relevance newest first; keyset on (rank, created_at, id)."""
    rank = func.ts_rank(Image.search_vector, tsquery)
    statement: Select[Any] = select(*RECORD_COLUMNS, rank.label("sort_key")).where(
        Image.search_vector.op("@@")(tsquery)
    )
    statement = having_all_tags(statement, tags)
    if after is not None:
        statement = statement.where(tuple_(rank, Image.created_at, Image.id) < tuple_(*after))
    page = (
        statement.order_by(rank.desc(), Image.created_at.desc(), Image.id.desc())
        .limit(limit)
        .subquery("page")
    )
    order = [page.c.sort_key.desc(), page.c.created_at.desc(), page.c.id.desc()]
    return [(record, float(score)) for record, score in await records(session, page, order)]
