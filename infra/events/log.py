"""The event log: every event the local buses route, kept in memory for people and tests to read.

EventBridge.route (infra.events.bus) records each event it receives on any bus it routes, whether or not
a rule matched, as the envelope targets receive it, with a sequence number (1, 2, ...) and the bus name.
The gateway serves the log at `GET /_local/events` (infra.cloud wires the route); `python -m infra
events` and the tests read it there. Before it, tests peeked template.yaml's InspectionQueue, which
moto answers in O(n^2) of the queue's size and which got slower all session.

- Indexes: by `detail-type`, and by id (the envelope's `id` and, when the detail is an object with an
  `id`, `detail.id`). Reading by type or id costs in proportion to that type's (id's) events, never the
  whole log; reading everything after a sequence number costs what is returned.
- Bounded: at most `limit` events (default 100,000, LOCAL_EVENT_LOG_LIMIT); the oldest is dropped with its
  index entries, each in O(1), so appending is O(1) too.
- wait(): resolves as soon as a matching event is recorded (futures on the cloud's loop, no polling).

It lives on the cloud's event loop: append, read and wait are called from that loop only.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

LIMIT_VARIABLE = "LOCAL_EVENT_LOG_LIMIT"
DEFAULT_LIMIT = 100_000
READ_LIMIT = 1000  # events one read returns at most
MAX_WAIT_SECONDS = 20.0  # as SQS's longest long poll


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    seq: int
    bus: str
    event: Mapping[str, Any]  # the EventBridge envelope, as targets receive it

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "bus": self.bus, "event": self.event}


def event_ids(event: Mapping[str, Any]) -> set[str]:
    """What the log indexes an event by: its envelope id and its detail's id, when there is one."""
    ids = {str(event["id"])} if event.get("id") is not None else set()
    detail = event.get("detail")
    if isinstance(detail, Mapping) and detail.get("id") is not None:
        ids.add(str(detail["id"]))
    return ids


class _Run:
    """Events in sequence order with O(1) append, amortised O(1) removal of the oldest, O(log n) seek."""

    __slots__ = ("_items", "_start")

    def __init__(self) -> None:
        self._items: list[LoggedEvent] = []
        self._start = 0

    def __len__(self) -> int:
        return len(self._items) - self._start

    def append(self, item: LoggedEvent) -> None:
        self._items.append(item)

    def oldest(self) -> LoggedEvent:
        return self._items[self._start]

    def drop_oldest(self) -> None:
        self._start += 1
        if self._start >= 1024 and self._start * 2 >= len(self._items):
            del self._items[: self._start]
            self._start = 0

    def after(self, seq: int) -> Iterator[LoggedEvent]:
        start = bisect.bisect_right(self._items, seq, lo=self._start, key=lambda item: item.seq)
        for index in range(start, len(self._items)):
            yield self._items[index]


@dataclass
class _Waiter:
    after: int
    type: str | None
    id: str | None
    future: asyncio.Future[None] = field(repr=False)


class EventLog:
    def __init__(self, limit: int | None = None) -> None:
        self.limit = max(1, limit if limit is not None else int(os.environ.get(LIMIT_VARIABLE, DEFAULT_LIMIT)))
        self.last = 0  # the highest sequence number given out
        self._all = _Run()
        self._by_type: dict[str, _Run] = {}
        self._by_id: dict[str, _Run] = {}
        self._waiters: list[_Waiter] = []

    def __len__(self) -> int:
        return len(self._all)

    def append(self, bus: str, event: Mapping[str, Any]) -> LoggedEvent:
        self.last += 1
        item = LoggedEvent(self.last, bus, event)
        self._all.append(item)
        self._by_type.setdefault(str(event.get("detail-type")), _Run()).append(item)
        for key in event_ids(event):
            self._by_id.setdefault(key, _Run()).append(item)
        while len(self._all) > self.limit:
            self._evict_oldest()
        self._wake(item)
        return item

    def read(
        self, after: int = 0, type: str | None = None, id: str | None = None, limit: int = READ_LIMIT
    ) -> list[LoggedEvent]:
        """Events with a sequence number above `after`, oldest first, of that detail-type and/or id."""
        found: list[LoggedEvent] = []
        if limit <= 0:
            return found
        for item in self._candidates(type, id).after(after):
            if _matches(item, type, id):
                found.append(item)
                if len(found) >= limit:
                    break
        return found

    async def wait(
        self,
        after: int,
        type: str | None = None,
        id: str | None = None,
        timeout: float = MAX_WAIT_SECONDS,
        limit: int = READ_LIMIT,
    ) -> list[LoggedEvent]:
        """read(after, type, id), waiting up to `timeout` seconds for a first matching event to be recorded."""
        found = self.read(after, type, id, limit)
        if found or timeout <= 0:
            return found
        waiter = _Waiter(after, type, id, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.future, timeout)
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        return self.read(after, type, id, limit)

    def _candidates(self, type: str | None, id: str | None) -> _Run:
        if id is not None:
            return self._by_id.get(id) or _Run()
        if type is not None:
            return self._by_type.get(type) or _Run()
        return self._all

    def _evict_oldest(self) -> None:
        item = self._all.oldest()
        self._all.drop_oldest()
        for index, key in ((self._by_type, str(item.event.get("detail-type"))),
                           *((self._by_id, key) for key in event_ids(item.event))):  # fmt: skip
            run = index[key]
            run.drop_oldest()  # the oldest of the log is the oldest of each of its indexes
            if not run:
                del index[key]

    def _wake(self, item: LoggedEvent) -> None:
        for waiter in self._waiters:
            if not waiter.future.done() and item.seq > waiter.after and _matches(item, waiter.type, waiter.id):
                waiter.future.set_result(None)


def _matches(item: LoggedEvent, type: str | None, id: str | None) -> bool:
    if type is not None and item.event.get("detail-type") != type:
        return False
    return id is None or id in event_ids(item.event)


def http_route(log: EventLog) -> Callable[[Mapping[str, str]], Awaitable[dict[str, Any]]]:
    """`GET /_local/events?after=SEQ&type=T&id=ID&limit=N&wait=SECONDS` for the gateway's local routes:
    {"events": [{"seq", "bus", "event"}], "last": the highest sequence number in the log}. With `wait`
    (0 to 20 s) the request is held until at least one event after `after` matches. A bad query value
    raises ValueError (the gateway answers 400)."""

    async def events(query: Mapping[str, str]) -> dict[str, Any]:
        after = _number(query, "after", 0, 0, float("inf"))
        limit = _number(query, "limit", READ_LIMIT, 1, READ_LIMIT)
        wait = float(_number(query, "wait", 0, 0, MAX_WAIT_SECONDS, parse=float))
        type, id = query.get("type") or None, query.get("id") or None
        if wait > 0:
            found = await log.wait(int(after), type, id, timeout=wait, limit=int(limit))
        else:
            found = log.read(int(after), type, id, int(limit))
        return {"events": [item.as_json() for item in found], "last": log.last}

    return events


def _number(
    query: Mapping[str, str], name: str, default: float, low: float, high: float, *, parse: Callable[[str], float] = int
) -> float:
    if name not in query or query[name] == "":
        return default
    try:
        value = parse(query[name])
    except ValueError:
        raise ValueError(f"{name} must be a number, got {query[name]!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {query[name]!r}")
    return value
