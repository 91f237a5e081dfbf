"""Failed-login limiter: at most N failures per window per client address.

Kept in process memory: with several API processes each one counts alone, so
the effective limit is N per process; a shared limiter would need PostgreSQL.
"""

from __future__ import annotations

import math
import time
from collections import deque


class LoginRateLimiter:
    def __init__(self, max_failures: int = 10, window_seconds: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int | None:
        """Seconds until this client may try again, or None when it may try now."""
        now = time.monotonic()
        failures = self._recent(client, now)
        if len(failures) < self.max_failures:
            if not failures:
                self._failures.pop(client, None)
            return None
        return max(1, math.ceil(failures[0] + self.window - now))

    def record_failure(self, client: str) -> None:
        now = time.monotonic()
        self._recent(client, now).append(now)
        # Bound memory under a flood of distinct addresses.
        if len(self._failures) > 100_000:
            self._failures.clear()
