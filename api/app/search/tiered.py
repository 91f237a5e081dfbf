"""One-word search by relevance tiers: fast at any library size.

Ranking every match with `ts_rank` costs a read of each matching row: for a
word on 10 % of 100,000 images, 10,000 rows and ~50 ms, whatever the page
size. A one-word search (the usual case) instead orders its matches by tier,
best first, then newest first, where the tier says where and how the word
matched:

1-3. the word itself (its English forms, as typed, or the corrections of a
     typo) in tags or title (weight A), in the recognised text (B), in the
     description (C);
4-6. only a word it starts ("shru" -> "shrug"), in A, B, C.

Each tier is one branch of a UNION ALL that reads either the newest rows of
`ix_images_created_at_id` that match (common word: a few hundred rows for a
page) or the few matching rows of the GIN index (rare word), whichever the
planner expects to be cheaper from the word's statistics, and stops at the
page size. The outer LIMIT stops the UNION before the lower tiers run as soon
as the better ones fill the page. An image belongs to its best tier only (the
NOT of the better tiers), so keyset paging on (tier, created_at, id) returns
each match exactly once. A word on few images (the planner's estimate, see
FEW_MATCHES) instead reads all its matches once and sorts them by tier: same
order, same cursors.

The SQL is text built once per shape (tiers, tags, cursor): the same tree
built with SQLAlchemy expressions cost more CPU than the query. Each tier's
tsquery is worked out once per word and process (`tier_texts`) and passed as
a constant: the planner must see its value to estimate how common the word
is (hence also `plan_cache_mode = force_custom_plan`, app/db.py), and folding
the to_tsquery() calls on every search doubled the planning time.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.images.repository import (
    AFTER_SQL,
    HAS_TAG_SQL,
    RECORD_COLUMNS_SQL,
    fetch_records,
    page_sql,
    page_sql_by_id,
    tag_params,
)
from app.images.rows import ImageRecord

WEIGHTS = ("A", "B", "C")
TIER_COUNT = 2 * len(WEIGHTS)
_WORD = "reactbin_unaccent(CAST(:word AS text))"


def _labelled(config: str, word_sql: str, label: str) -> str:
    """`'word':label` parsed with `config`; quoted, so nothing in the word is tsquery syntax."""
    # "\:" is how text() writes a colon that does not start a parameter.
    quoted = f"'''' || replace({word_sql}, '''', '''''') || '''\\:{label}'"
    return f"to_tsquery('{config}'::regconfig, {quoted})"


def _tier_queries(corrections: int) -> list[str]:
    """The tsquery of each tier, best first."""
    queries = []
    for weight in WEIGHTS:
        forms = [_labelled("english", _WORD, weight), _labelled("simple", _WORD, weight)]
        forms += [
            _labelled("simple", f"CAST(:correction_{n} AS text)", weight)
            for n in range(corrections)
        ]
        queries.append("(" + " || ".join(forms) + ")")
    queries += [_labelled("simple", _WORD, f"*{weight}") for weight in WEIGHTS]
    return queries


# Each tier's tsquery for a word (and its corrections), as text: the English
# stem of a word never changes, so it is worked out once per process. Passing
# the ready tsqueries into the search statement halves its planning time (the
# planner no longer folds 20-odd to_tsquery() calls to estimate them).
# With them, the planner's estimate of how many images the word is on.
_TIER_TEXTS_MAX = 4096
_tier_texts: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, ...], float, float]] = {}
# Up to this many estimated matches, reading them all once and sorting by tier
# (`few_matches_sql`) is cheaper than the UNION, whose weight-restricted
# branches each re-read the word's rows (the GIN index cannot check weights),
# and whose best tier, when it has few matches, walks much of the newest-first
# index to fill the page. At 100,000 images: "describes" (758 matches, estimated
# 1,121) took 10 ms this way and 46 ms through the UNION; a common word
# (~15,000 matches) 2 ms through the UNION.
FEW_MATCHES = 2000
_ESTIMATE_SQL = text(
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM images WHERE search_vector @@ CAST(:query AS tsquery)"
)


# A weight label after a lexeme: `'word':A`, `'word':*B` (prefix kept).
_WEIGHT_LABEL = re.compile(r"'(:\*?)[ABCD]+")


def _estimate_query(texts: Sequence[str], *, exact_only: bool = False) -> str:
    """What to ask the planner how many images the word is on: the word's forms
    once, without weights. The planner ignores weights and adds up the OR'ed
    copies of a lexeme as if independent, so asking with all six tiers
    overestimated a word on 172 images as 2,609 and sent rare words to the
    UNION (whose branches each re-read them). Only ever picks the plan: both
    plans return the same rows. `exact_only`: the word itself (and its
    corrections), not as a prefix."""
    exact = next((t for t in texts[: len(WEIGHTS)] if t), "")
    prefix = "" if exact_only else next((t for t in texts[len(WEIGHTS) :] if t), "")
    plain = [_WEIGHT_LABEL.sub(lambda m: "'" + m.group(1).rstrip(":"), t) for t in (exact, prefix)]
    return _any_of([t for t in plain if t])


@functools.lru_cache(maxsize=8)
def _tier_texts_sql(corrections: int) -> TextClause:
    columns = ", ".join(f"CAST({query} AS text)" for query in _tier_queries(corrections))
    return text(f"SELECT {columns}")


def _any_of(queries: Sequence[str]) -> str:
    return " | ".join(f"( {query} )" for query in queries)


async def tier_texts(
    session: AsyncSession, word: str, corrections: Sequence[str]
) -> tuple[list[str], float, float]:
    """The tsquery of each tier, best first, as text ('' when the tier cannot
    match), the estimated number of images the word matches, and of those it
    matches as itself (not only as a prefix)."""
    key = (word, tuple(corrections))
    found = _tier_texts.get(key)
    if found is None:
        params = {"word": word, **{f"correction_{n}": c for n, c in enumerate(corrections)}}
        row = (await session.execute(_tier_texts_sql(len(corrections)), params)).one()
        texts = tuple(str(value or "") for value in row)
        estimate = await _estimate(session, _estimate_query(texts))
        exact = await _estimate(session, _estimate_query(texts, exact_only=True))
        if len(_tier_texts) >= _TIER_TEXTS_MAX:
            _tier_texts.clear()
        found = _tier_texts[key] = (texts, estimate, exact)
    return list(found[0]), found[1], found[2]


async def _estimate(session: AsyncSession, query: str) -> float:
    """The planner's estimate of the images matching `query` (0 for no query)."""
    if not query:
        return 0.0
    plan = (await session.execute(_ESTIMATE_SQL, {"query": query})).scalar_one()
    return float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])


# From this many estimated matches, the sort carries only (tier, time, id) and
# the page's 51 rows are read again by id: sorting 1,115 whole rows (~440 bytes
# each) for "decorating" took a third of its 2 ms; fewer rows do not repay the
# join's planning (0.06 ms).
NARROW_SORT_FROM = 1000


@functools.lru_cache(maxsize=64)
def few_matches_sql(
    tiers: tuple[int, ...], tags: int, after: bool, *, narrow: bool = False
) -> TextClause:
    """The same order for a word on few images: read every match once (GIN
    index), give each its best tier, sort. `:any_tier` is the word's forms
    without weights (`_estimate_query`): every lexeme of the document has a
    weight (A, B or C), so it matches the same images as the tiers together,
    and the GIN index answers it without rechecking each row (a weighted query
    needs the row's vector to check the weights: 1.4 instead of 0.3 ms for a
    word on 189 images), and it plans faster."""
    cases = " ".join(
        f"WHEN search_vector @@ CAST(:tier_{tier} AS tsquery) THEN {tier}" for tier in tiers
    )
    where = ["search_vector @@ CAST(:any_tier AS tsquery)"]
    where += [HAS_TAG_SQL.format(n=n) for n in range(tags)]
    columns = "id, created_at" if narrow else RECORD_COLUMNS_SQL
    inner = (
        f"SELECT {columns}, CASE {cases} ELSE 0 END AS sort_key "  # noqa: S608
        f"FROM images WHERE {' AND '.join(where)} "
        # A fence: without it PostgreSQL pushes `sort_key > 0` into the scan as a
        # second copy of the CASE, running up to 12 instead of 6 matches per row.
        "OFFSET 0"
    )
    # sort_key 0: matched the unweighted :any_tier only (a phrase across two fields).
    keyset = "WHERE sort_key > 0 " + (
        "AND (sort_key, created_at, id) < (CAST(:after_tier AS integer), "
        "CAST(:after_created_at AS timestamptz), CAST(:after_id AS text)) "
        if after
        else ""
    )
    matches = (
        f"SELECT * FROM ({inner}) AS matches {keyset}"  # noqa: S608
        "ORDER BY sort_key DESC, created_at DESC, id DESC LIMIT :limit"
    )
    if narrow:
        return text(page_sql_by_id(matches))
    return text(page_sql(matches, "page.sort_key DESC, page.created_at DESC, page.id DESC"))


@functools.lru_cache(maxsize=256)
def tiered_sql(
    tiers: tuple[int, ...], tags: int, after_tier: int | None, *, below: bool = False
) -> TextClause:
    """The statement for one shape of search (the tiers that can match, best
    first); parameters carry the values: `tier_<n>`, and `better_<n>`, the
    tiers above n that can match, as one tsquery. `below`: `tiers` are the
    lower part of a longer shape, so the first one too has better tiers."""
    branches = []
    for index, tier in enumerate(tiers):
        if after_tier is not None and tier > after_tier:
            continue
        where = [f"search_vector @@ CAST(:tier_{tier} AS tsquery)"]
        if index or below:  # an image belongs to its best tier only
            where.append(f"NOT search_vector @@ CAST(:better_{tier} AS tsquery)")
        if tier == after_tier:
            where.append(AFTER_SQL)
        where += [HAS_TAG_SQL.format(n=n) for n in range(tags)]
        # Built from constants and counts only; every value is a bound parameter.
        conditions = " AND ".join(where)
        branches.append(
            f"(SELECT {RECORD_COLUMNS_SQL}, {tier} AS sort_key FROM images "  # noqa: S608
            f"WHERE {conditions} ORDER BY created_at DESC, id DESC LIMIT :limit)"
        )
    # One branch is a statement of its own (a second LIMIT after it would be an error).
    union = " UNION ALL ".join(branches) + " LIMIT :limit"
    inner = union if len(branches) > 1 else branches[0][1:-1]
    order = "page.sort_key DESC, page.created_at DESC, page.id DESC"
    return text(page_sql(inner, order))


async def search_tiered(
    session: AsyncSession,
    word: str,
    corrections: Sequence[str],
    *,
    tags: Sequence[str],
    limit: int,
    after: tuple[int, datetime, str] | None,
) -> list[tuple[ImageRecord, int]]:
    """Best tier first, newest first within a tier; keyset on (tier, created_at, id)."""
    texts, estimate, exact = await tier_texts(session, word, corrections)
    tiers = [(TIER_COUNT - index, query) for index, query in enumerate(texts) if query]
    if not any(after is None or tier <= after[0] for tier, _ in tiers):
        return []
    params: dict[str, Any] = {"limit": limit, **tag_params(tags)}
    for index, (tier, query) in enumerate(tiers):
        params[f"tier_{tier}"] = query
        if index:
            params[f"better_{tier}"] = _any_of([q for _, q in tiers[:index]])
    if after is not None:
        params.update(after_tier=after[0], after_created_at=after[1], after_id=after[2])
    shape = tuple(tier for tier, _ in tiers)
    if estimate <= FEW_MATCHES:
        params["any_tier"] = _estimate_query(texts)
        narrow = estimate >= NARROW_SORT_FROM
        statement = few_matches_sql(shape, len(tags), after is not None, narrow=narrow)
        return await _fetch_tiered(session, statement, params)
    if exact <= FEW_MATCHES and shape[0] > len(WEIGHTS) >= shape[-1]:
        return await _few_exact_many_prefixed(session, texts, tiers, tags, limit, after)
    # A common word nearly always fills the page from its best tier.
    alone_first = exact > FEW_MATCHES and (after is None or after[0] == shape[0])
    after_tier = after[0] if after else None
    return await _best_tier_first(session, shape, len(tags), after_tier, params, alone_first)


async def _fetch_tiered(
    session: AsyncSession, statement: TextClause, params: dict[str, Any]
) -> list[tuple[ImageRecord, int]]:
    return [(record, int(tier)) for record, tier in await fetch_records(session, statement, params)]


async def _best_tier_first(
    session: AsyncSession,
    shape: tuple[int, ...],
    tags: int,
    after_tier: int | None,
    params: dict[str, Any],
    alone_first: bool,
    *,
    below: bool = False,
) -> list[tuple[ImageRecord, int]]:
    """The tiers' UNION. `alone_first`: the best tier's branch alone first, planned
    in a fifth of the time of all six (the UNION's first rows are exactly these);
    the UNION only when it falls short of the page (`params["limit"]`)."""
    if alone_first:
        first = tiered_sql(shape[:1], tags, after_tier, below=below)
        rows = await _fetch_tiered(session, first, params)
        if len(rows) == params["limit"]:
            return rows
    return await _fetch_tiered(session, tiered_sql(shape, tags, after_tier, below=below), params)


async def _few_exact_many_prefixed(
    session: AsyncSession,
    texts: Sequence[str],
    tiers: Sequence[tuple[int, str]],
    tags: Sequence[str],
    limit: int,
    after: tuple[int, datetime, str] | None,
) -> list[tuple[ImageRecord, int]]:
    """A word that is rare (or in no image at all) as itself but starts many
    words: what someone types on the way to "crying". The six-branch UNION
    spent more time being planned (0.36 ms) than the page took to read, and
    checked every row of its prefix walk against the absent word's tiers.
    Instead: the few exact matches first, read at once and sorted by tier (the
    GIN index answers an absent word in microseconds); only if they fall short
    of the page, the prefix tiers, best first, without the exact tiers' checks
    when there was no exact match. Same order and cursors as the UNION."""
    exact_any = _estimate_query(texts, exact_only=True)
    exact = tuple(tier for tier, _ in tiers if tier > len(WEIGHTS))
    prefixed = tuple(tier for tier, _ in tiers if tier <= len(WEIGHTS))
    queries = dict(tiers)
    base: dict[str, Any] = tag_params(tags)
    rows: list[tuple[ImageRecord, int]] = []
    # On a later page whose cursor is in the prefix tiers, whether any exact
    # match exists is not known: the prefix tiers then leave them out row by row.
    exact_seen = after is not None
    if after is None or after[0] > len(WEIGHTS):
        params = {**base, "limit": limit, "any_tier": exact_any}
        params.update({f"tier_{tier}": queries[tier] for tier in exact})
        if after is not None:
            params.update(after_tier=after[0], after_created_at=after[1], after_id=after[2])
        statement = few_matches_sql(exact, len(tags), after is not None)
        rows = await _fetch_tiered(session, statement, params)
        if len(rows) == limit:
            return rows
        exact_seen = bool(rows) or after is not None
    params = {**base, "limit": limit - len(rows)}
    for index, tier in enumerate(prefixed):
        params[f"tier_{tier}"] = queries[tier]
        better = ([exact_any] if exact_seen else []) + [queries[t] for t in prefixed[:index]]
        if better:
            params[f"better_{tier}"] = _any_of(better)
    cursor = after if after is not None and after[0] <= len(WEIGHTS) else None
    if cursor is not None:
        params.update(after_tier=cursor[0], after_created_at=cursor[1], after_id=cursor[2])
    after_tier = cursor[0] if cursor else None
    # The best prefix tier alone first, as for a common word.
    alone_first = cursor is None or cursor[0] == prefixed[0]
    found = await _best_tier_first(
        session, prefixed, len(tags), after_tier, params, alone_first, below=exact_seen
    )
    return rows + found
