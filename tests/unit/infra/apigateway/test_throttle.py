"""Token buckets: a burst, then the steady rate, per client."""

from __future__ import annotations

import math

from infra.apigateway.throttle import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate_per_client():
    clock = Clock()
    buckets = TokenBuckets(2, 3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = buckets.take("a")
    assert math.isclose(wait, 0.5)
    assert TokenBuckets.retry_after(wait) == 1
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_refill_never_exceeds_the_burst():
    clock = Clock()
    buckets = TokenBuckets(10, 2, clock=clock)
    buckets.take("a")
    clock.now += 3600
    assert [buckets.take("a") == 0.0 for _ in range(3)] == [True, True, False]


def test_retry_after_is_whole_seconds():
    assert TokenBuckets.retry_after(0.01) == 1
    assert TokenBuckets.retry_after(2.2) == 3
    assert TokenBuckets.retry_after(math.inf) == 1
    assert TokenBuckets(0, 0).take("a") == math.inf


def test_memory_is_bounded():
    clock = Clock()
    buckets = TokenBuckets(1, 1, clock=clock, max_clients=10)
    for client in range(100):
        buckets.take(str(client))
        clock.now += 0.01
    assert len(buckets._buckets) <= 10
