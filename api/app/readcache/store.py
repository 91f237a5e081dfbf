"""The response cache: whole JSON answers of the public read routes, in memory.

A reaction library is read far more than it is written: a chat picker asks the
same few searches again and again (one request per keystroke), while the owner
uploads a handful of images a day. So the server keeps the bytes of recent
answers and serves a repeat without touching the database, and forgets *all*
of them whenever anything in the library changes. That makes a cached answer
exactly as fresh as an uncached one, with no TTL to tune:

- a write made by this process clears the cache as it commits (`clear`, hooked
  to the write sessions' commits in app/db.py), before its response is sent,
  so the owner always sees their own change;
- a write made anywhere else (another server process, a worker, `reactbin
  check --repair`, psql) makes PostgreSQL notify every listening process
  (triggers of migration 0008, `listener.py`), which clears its cache within
  milliseconds of the commit; and before serving a stored answer, `get`
  waits until everything committed before the request came has been heard
  (one shared round trip to PostgreSQL, `listener.caught_up`), so a change
  made through another process shows at once here too.

While this process is not listening (starting, or its listening connection
lost) it could miss a notification, so the cache is off: nothing is served
from it and nothing stored (`live`). An answer computed while a change was
committed is not stored either: `put` takes the generation seen when the
request began and drops the answer if a clear happened since.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

CacheKey = tuple[str, bytes]
# True once every change committed before the call has cleared the cache (listener.py).
CaughtUp = Callable[[], Awaitable[bool]]
# One answer may use at most this share of the cache, so a few large pages
# cannot push out hundreds of small ones.
LARGEST_SHARE = 16
# Rough bookkeeping cost of an entry beyond its body (key, headers, objects).
ENTRY_OVERHEAD = 400


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    # The route that made the answer: a hit reports it to the metrics, as a miss would.
    route: Any

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD + sum(len(n) + len(v) for n, v in self.headers)


@dataclass(frozen=True, slots=True)
class CachedData:
    """Data a page is made from (the web gallery's cards), where the page itself
    cannot be stored (each HTML page carries its own CSP nonce). Immutable values only:
    every request that hits shares it."""

    value: Any
    size: int


# Data entries live beside the answers, under keys no request path has.
DATA_PREFIX = "data:"


class ResponseCache:
    """Least recently used answers by (path, query string), up to `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.generation = 0
        # Set while the listener listens (its `caught_up`), None while it does not.
        self._caught_up: CaughtUp | None = None
        self._entries: OrderedDict[CacheKey, CachedResponse | CachedData] = OrderedDict()
        self._bytes = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def live(self) -> bool:
        return self._caught_up is not None and self.enabled

    def set_listening(self, caught_up: CaughtUp | None) -> None:
        """Called by the listener with its `caught_up` when it starts listening, None
        when it stops: whatever happened while it was away is unknown."""
        self.clear()
        self._caught_up = caught_up

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes_used(self) -> int:
        return self._bytes

    async def get(self, key: CacheKey) -> CachedResponse | None:
        """The answer stored under `key`, if it is still right as of this call in the
        whole deployment (not only as far as this process has heard), or None."""
        entry = await self._current(key)
        return entry if isinstance(entry, CachedResponse) else None

    async def get_data(self, name: str, key: bytes) -> Any:
        """What `put_data` stored under (name, key), as `get` answers, or None."""
        entry = await self._current((DATA_PREFIX + name, key))
        return entry.value if isinstance(entry, CachedData) else None

    def put_data(self, name: str, key: bytes, value: Any, size: int, generation: int) -> bool:
        return self.put((DATA_PREFIX + name, key), CachedData(value, size), generation)

    async def _current(self, key: CacheKey) -> CachedResponse | CachedData | None:
        caught_up = self._caught_up
        if caught_up is None or self._lookup(key) is None:
            return None  # a miss is a miss whatever is on its way
        if not await caught_up():
            return None
        return self._lookup(key)  # gone if a change was heard meanwhile

    def _lookup(self, key: CacheKey) -> CachedResponse | CachedData | None:
        if not self.live:
            return None
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: CacheKey, entry: CachedResponse | CachedData, generation: int) -> bool:
        """Store `entry` unless the library changed since `generation` was read."""
        size = entry.size
        if not self.live or generation != self.generation or size > self.max_bytes // LARGEST_SHARE:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[key] = entry
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
        return True

    def clear(self) -> None:
        """The library changed: every stored answer may be wrong now."""
        self.generation += 1
        self._entries.clear()
        self._bytes = 0
