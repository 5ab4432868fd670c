"""Per-client token buckets: the HTTP API's throttling (rate per second, burst) applied to each client."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class TokenBuckets:
    """One bucket per client key, created full; a request takes one token."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.rate = float(rate_per_second)
        self.burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, list[float]] = {}  # client -> [tokens, last refill time]

    def take(self, client: str) -> float:
        """0.0 if the request may pass, else the seconds until this client has a token again."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self._max_clients:
                self._forget_full(now)
            bucket = self._buckets[client] = [self.burst, now]
        else:
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return 0.0
        if self.rate <= 0 or self.burst < 1:
            return math.inf
        return (1.0 - bucket[0]) / self.rate

    @staticmethod
    def retry_after(wait_seconds: float) -> int:
        """The Retry-After header value: whole seconds, at least 1."""
        if math.isinf(wait_seconds):
            return 1
        return max(1, math.ceil(wait_seconds))

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely is the same as no bucket: drop those to bound memory.
        rate = self.rate
        full = [key for key, (tokens, last) in self._buckets.items() if tokens + (now - last) * rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_clients:  # still too many: drop the least recently seen
            for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: len(self._buckets) // 2]:
                del self._buckets[key]
