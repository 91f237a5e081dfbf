"""The response cache's bookkeeping: what it keeps, what it drops, and when it refuses."""

from __future__ import annotations

from app.readcache.store import ENTRY_OVERHEAD, CachedResponse, ResponseCache


def _entry(size: int) -> CachedResponse:
    return CachedResponse(200, (), b"x" * (size - ENTRY_OVERHEAD), route=None)


async def _heard_everything() -> bool:
    """A listener with nothing on its way."""
    return True


def _live_cache(max_bytes: int) -> ResponseCache:
    cache = ResponseCache(max_bytes)
    cache.set_listening(_heard_everything)
    return cache


async def test_keeps_answers_until_the_library_changes() -> None:
    cache = _live_cache(1_000_000)
    assert cache.put(("/a", b""), _entry(1000), cache.generation)
    assert await cache.get(("/a", b"")) is not None
    assert await cache.get(("/a", b"q=1")) is None
    cache.clear()
    assert await cache.get(("/a", b"")) is None
    assert cache.bytes_used == 0


def test_an_answer_computed_across_a_change_is_dropped() -> None:
    cache = _live_cache(1_000_000)
    seen = cache.generation
    cache.clear()  # a write committed while the answer was being computed
    assert not cache.put(("/a", b""), _entry(1000), seen)
    assert len(cache) == 0


async def test_nothing_is_kept_or_served_while_not_listening() -> None:
    cache = _live_cache(1_000_000)
    cache.put(("/a", b""), _entry(1000), cache.generation)
    cache.set_listening(None)
    assert await cache.get(("/a", b"")) is None
    assert not cache.put(("/a", b""), _entry(1000), cache.generation)
    cache.set_listening(_heard_everything)
    assert await cache.get(("/a", b"")) is None  # what was kept before is gone


async def test_the_least_recently_used_answers_go_first() -> None:
    cache = _live_cache(16 * 1000)
    for name in "abcdefghijklmnop":
        assert cache.put((f"/{name}", b""), _entry(1000), cache.generation)
    assert await cache.get(("/a", b"")) is not None  # used: now the most recent
    cache.put(("/q", b""), _entry(1000), cache.generation)
    assert await cache.get(("/b", b"")) is None
    assert await cache.get(("/a", b"")) is not None
    assert cache.bytes_used <= cache.max_bytes


def test_one_large_answer_cannot_take_the_whole_cache() -> None:
    cache = _live_cache(16 * 1000)
    assert not cache.put(("/big", b""), _entry(1001), cache.generation)
    assert cache.put(("/fits", b""), _entry(1000), cache.generation)


def test_size_zero_means_no_cache() -> None:
    cache = ResponseCache(0)
    cache.set_listening(_heard_everything)
    assert not cache.enabled
    assert not cache.live
    assert not cache.put(("/a", b""), _entry(ENTRY_OVERHEAD), cache.generation)


async def test_a_stored_answer_waits_for_changes_already_on_their_way() -> None:
    """A notification sent before the request came, heard during the round trip."""
    cache = ResponseCache(1_000_000)

    async def heard_a_change() -> bool:
        cache.clear()
        return True

    cache.set_listening(heard_a_change)
    cache.put(("/a", b""), _entry(1000), cache.generation)
    cache.put_data("gallery", b"k", ("cards",), 100, cache.generation)
    assert await cache.get(("/a", b"")) is None
    assert await cache.get_data("gallery", b"k") is None


async def test_nothing_is_served_when_being_current_cannot_be_known() -> None:
    cache = ResponseCache(1_000_000)
    asked = 0

    async def unknown() -> bool:
        nonlocal asked
        asked += 1
        return False

    cache.set_listening(unknown)
    cache.put(("/a", b""), _entry(1000), cache.generation)
    assert await cache.get(("/a", b"")) is None
    assert await cache.get(("/b", b"")) is None  # a miss asks no one
    assert asked == 1
    assert len(cache) == 1  # kept: the next check may succeed


async def test_when_nothing_changed_the_stored_answer_is_served() -> None:
    cache = ResponseCache(1_000_000)

    async def current() -> bool:
        return True

    cache.set_listening(current)
    entry = _entry(1000)
    cache.put(("/a", b""), entry, cache.generation)
    assert await cache.get(("/a", b"")) is entry
