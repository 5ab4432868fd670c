"""Activity: pollers poll fast while functions run (and a while after), rest when idle, wake on the next invocation."""

from __future__ import annotations

import asyncio
import time

from infra.core.activity import Activity


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_busy_while_a_function_runs_and_for_a_while_after_it_ends() -> None:
    clock = Clock()
    activity = Activity(busy_after_seconds=3, clock=clock)
    assert not activity.busy
    activity.invocation_started()
    clock.now += 60  # a long invocation stays busy however long it runs
    assert activity.busy
    activity.invocation_ended()
    clock.now += 2.9
    assert activity.busy
    clock.now += 0.2
    assert not activity.busy


def test_records_read_keep_it_busy() -> None:
    clock = Clock()
    activity = Activity(busy_after_seconds=3, clock=clock)
    activity.touch()
    assert activity.busy
    clock.now += 3.1
    assert not activity.busy


def test_an_idle_pause_ends_when_a_function_is_invoked() -> None:
    async def scenario() -> float:
        activity = Activity()
        began = time.monotonic()
        pause = asyncio.create_task(activity.pause(0.01, 30))
        await asyncio.sleep(0.05)
        assert not pause.done()  # idle: the poller rests
        activity.invocation_started()
        await asyncio.wait_for(pause, 1)
        return time.monotonic() - began

    assert asyncio.run(scenario()) < 1


def test_a_busy_pause_is_the_short_one() -> None:
    async def scenario() -> float:
        activity = Activity()
        activity.touch()
        began = time.monotonic()
        await activity.pause(0.01, 30)
        return time.monotonic() - began

    assert asyncio.run(scenario()) < 1
