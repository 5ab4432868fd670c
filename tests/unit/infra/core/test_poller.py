"""The shared SQS poll loop: batches handed over and deleted, errors retried, FIFO receives one at a time,
and a stop that cancels idle receives at once but lets a batch being handled finish."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from infra.core.poller import QueuePoller

log = logging.getLogger("test.poller")


class FakeSqs:
    """receive_message hands out the queued batches, then long-polls (blocks) like SQS with nothing to give."""

    def __init__(self, batches: list[list[str]], fail_first: bool = False) -> None:
        self.batches = [[{"MessageId": body, "ReceiptHandle": f"r-{body}", "Body": body} for body in batch]
                        for batch in batches]  # fmt: skip
        self.deleted: list[str] = []
        self.receiving = 0
        self.most_receiving = 0
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def receive_message(self, **request):
        with self._lock:
            if self.fail_first:
                self.fail_first = False
                raise RuntimeError("moto is restarting")
            self.receiving += 1
            self.most_receiving = max(self.most_receiving, self.receiving)
            batch = self.batches.pop(0) if self.batches else None
        time.sleep(0.05 if batch else request["WaitTimeSeconds"])
        with self._lock:
            self.receiving -= 1
        return {"Messages": batch} if batch else {}

    def delete_message_batch(self, QueueUrl, Entries):
        self.deleted += [entry["ReceiptHandle"] for entry in Entries]
        return {}


def run(scenario) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_what_the_handler_returns_is_deleted_and_errors_are_retried():
    async def scenario():
        sqs = FakeSqs([["a", "b"], ["c"]], fail_first=True)
        seen: list[str] = []

        async def handler(messages):
            seen.extend(m["Body"] for m in messages)
            return [m for m in messages if m["Body"] != "b"]  # b failed: left for the visibility timeout

        poller = QueuePoller("test", handler, log=log)
        poller.start(sqs, "url")
        while len(seen) < 3:
            await asyncio.sleep(0.01)
        await poller.stop()
        assert seen == ["a", "b", "c"] and sqs.deleted == ["r-a", "r-c"]

    run(scenario)


def test_serialized_receives_never_overlap():
    async def scenario():
        sqs = FakeSqs([["a"], ["b"], ["c"], ["d"]])
        handled = asyncio.Event()

        async def handler(messages):
            if len(sqs.deleted) >= 3:
                handled.set()
            return messages

        poller = QueuePoller("fifo", handler, log=log, tasks=4, serialize_receives=True)
        poller.start(sqs, "url")
        await handled.wait()
        await poller.stop()
        assert sqs.most_receiving == 1

    run(scenario)


def test_stop_cancels_idle_receives_at_once_and_lets_a_batch_finish():
    async def scenario():
        sqs = FakeSqs([["slow"]])
        started, finished = asyncio.Event(), asyncio.Event()

        async def handler(messages):
            started.set()
            await asyncio.sleep(0.3)
            finished.set()
            return messages

        poller = QueuePoller("graceful", handler, log=log, tasks=2)
        poller.start(sqs, "url")
        await started.wait()
        began = time.monotonic()
        await poller.stop()
        assert finished.is_set() and sqs.deleted == ["r-slow"]
        assert time.monotonic() - began < 0.9  # the idle task's 1 s long poll was not waited for

    run(scenario)
