"""The event log: sequence numbers, reads by type and id, the bound with its indexes, and wait()."""

from __future__ import annotations

import asyncio

import pytest

from infra.events.log import EventLog, http_route


def event(detail_type: str, event_id: str, detail_id: str | None = None) -> dict:
    detail = {"id": detail_id, "data": {}} if detail_id else {"data": {}}
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": "shop.test", "detail": detail}


def seqs(items) -> list[int]:
    return [item.seq for item in items]


def test_reads_after_a_sequence_number_by_type_and_by_id():
    log = EventLog(limit=100)
    log.append("shop", event("OrderPlaced", "e1", "d1"))
    log.append("shop", event("OrderPaid", "e2", "d2"))
    log.append("other", event("OrderPlaced", "e3"))
    assert seqs(log.read()) == [1, 2, 3] and log.last == 3
    assert seqs(log.read(after=1)) == [2, 3]
    assert seqs(log.read(type="OrderPlaced")) == [1, 3]
    assert seqs(log.read(after=1, type="OrderPlaced")) == [3]
    assert seqs(log.read(id="e2")) == [2] and seqs(log.read(id="d1")) == [1]
    assert seqs(log.read(type="OrderPaid", id="d1")) == []
    assert seqs(log.read(limit=2)) == [1, 2]
    assert log.read(type="Unknown") == [] and log.read(id="nope") == []
    assert log.read()[2].as_json() == {"seq": 3, "bus": "other", "event": event("OrderPlaced", "e3")}


def test_the_oldest_events_are_dropped_with_their_index_entries():
    log = EventLog(limit=3)
    for number in range(1, 3001):
        log.append("shop", event(f"T{number % 2}", f"e{number}", f"d{number}"))
    assert len(log) == 3 and log.last == 3000
    assert seqs(log.read()) == [2998, 2999, 3000]
    assert seqs(log.read(type="T0")) == [2998, 3000] and seqs(log.read(type="T1")) == [2999]
    assert log.read(id="e2997") == [] and log.read(id="d1") == [] and seqs(log.read(id="d2999")) == [2999]
    assert set(log._by_id) == {"e2998", "d2998", "e2999", "d2999", "e3000", "d3000"}  # no index entry leaks


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOCAL_EVENT_LOG_LIMIT", "7")
    assert EventLog().limit == 7


def test_wait_wakes_up_when_a_matching_event_is_recorded():
    async def scenario() -> None:
        log = EventLog()
        log.append("shop", event("Other", "e1"))
        waiting = asyncio.create_task(log.wait(after=0, type="Wanted", timeout=5))
        await asyncio.sleep(0.01)
        log.append("shop", event("Other", "e2"))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        loop = asyncio.get_running_loop()
        began = loop.time()
        log.append("shop", event("Wanted", "e3"))
        assert seqs(await waiting) == [3]
        assert loop.time() - began < 0.5
        assert not log._waiters
        assert await log.wait(after=3, type="Wanted", timeout=0.05) == []  # times out empty

    asyncio.run(scenario())


def test_the_http_route_reads_waits_and_refuses_bad_values():
    async def scenario() -> None:
        log = EventLog()
        route = http_route(log)
        log.append("shop", event("A", "e1"))
        assert await route({"type": "A"}) == {"events": [log.read()[0].as_json()], "last": 1}
        assert (await route({"after": "1"}))["events"] == []
        waiting = asyncio.create_task(route({"after": "1", "wait": "5", "id": "e2"}))
        await asyncio.sleep(0.01)
        log.append("shop", event("B", "e2"))
        assert [item["seq"] for item in (await waiting)["events"]] == [2]
        for bad in ({"after": "x"}, {"wait": "21"}, {"limit": "0"}, {"after": "-1"}):
            with pytest.raises(ValueError, match=next(iter(bad))):
                await route(bad)

    asyncio.run(scenario())
