"""Whether the local cloud is busy, so that its pollers can rest when nobody uses it.

DynamoDB Local cannot tell anyone that a table changed: its streams have to be polled. Polling every
shard every 60 ms (what keeps a stream record's trip to its function ~35 ms) cost an idle `make run` most
of its ~23 % of a core. Nearly every write reaches DynamoDB from a function the cloud is running (an API
request, a saga step, a stream or queue consumer), so the cloud knows when writes are likely: while a
function is being invoked, and for BUSY_AFTER_SECONDS after the last invocation ended or the last stream
record was read, pollers poll at their busy pace; otherwise at their idle pace, and a new invocation wakes
every idle poller at once. Only a write from outside the cloud (a script's own SDK call) made while the
cloud was idle waits for the idle pace (a stream shard is then polled once a second; Lambda polls one 4
times a second on AWS); the first record read makes the cloud busy again.

Used from the cloud's event loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

BUSY_AFTER_SECONDS = 3.0


class Activity:
    def __init__(
        self, *, busy_after_seconds: float = BUSY_AFTER_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._busy_after = busy_after_seconds
        self._clock = clock
        self._running = 0  # invocations in progress
        self._busy_until = 0.0
        self._wakeup: asyncio.Future[None] | None = None

    @property
    def busy(self) -> bool:
        return self._running > 0 or self._clock() < self._busy_until

    def invocation_started(self) -> None:
        idle = not self.busy
        self._running += 1
        if idle:
            self._wake()

    def invocation_ended(self) -> None:
        self._running = max(self._running - 1, 0)
        self.touch()

    def touch(self) -> None:
        """Something happened (records were read): stay busy a while longer."""
        idle = not self.busy
        self._busy_until = max(self._busy_until, self._clock() + self._busy_after)
        if idle:
            self._wake()

    async def pause(self, busy_seconds: float, idle_seconds: float) -> None:
        """Sleep `busy_seconds` while the cloud is busy; else up to `idle_seconds`, or until it gets busy."""
        if self.busy:
            await asyncio.sleep(busy_seconds)
            return
        if self._wakeup is None or self._wakeup.done():
            self._wakeup = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._wakeup), idle_seconds)

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
