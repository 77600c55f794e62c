"""A per-user sliding-window rate limit (no discord.py here)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key.

    :meth:`hit` records an event and returns 0.0, or, past the limit, records nothing and
    returns the seconds to wait before the next event is allowed.
    """

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> float:
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(events[0] + self.window - now, 0.001)
            events.append(now)
            self._prune(now)
            return 0.0

    def _prune(self, now: float) -> None:
        """Forget keys whose events are all outside the window (bounded memory)."""
        if len(self._events) < 1024:
            return
        stale = [key for key, ev in self._events.items() if not ev or ev[-1] <= now - self.window]
        for key in stale:
            del self._events[key]
