"""An optional per-client limit on search requests (``search-cli serve --rate-limit N``).

A token bucket per client address: bursts up to N requests, refilled at N per minute. It
protects a small public server from one client hogging its two cores; it is off by default.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Token buckets keyed by client address; ``allow`` says whether a request may run."""

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last time)
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> tuple[bool, float]:
        """(allowed, seconds until the next request would be allowed)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._store(client, tokens - 1.0, now)
                return True, 0.0
            self._store(client, tokens, now)
            return False, (1.0 - tokens) / self.rate

    def _store(self, client: str, tokens: float, now: float) -> None:
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.max_clients:
            # Forget clients whose bucket has refilled anyway (they lose nothing).
            full = [c for c, (t, last) in self._buckets.items()
                    if t + (now - last) * self.rate >= self.capacity]
            for c in full:
                del self._buckets[c]
            while len(self._buckets) > self.max_clients:
                del self._buckets[next(iter(self._buckets))]
