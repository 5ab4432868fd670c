"""Waiting for events in tests: what a rule delivered to a queue, or what the shop emitted on its bus.

The shop's emitted events are asserted through the inspection queue (every event on the bus, copied by
template.yaml's InspectionRule), peeked without removing anything, as `python -m infra events` does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from infra.events.inspect import peek

Predicate = Callable[[dict[str, Any]], bool]


def wait_for_event(sqs: Any, queue_url: str, predicate: Predicate, timeout: float = 10) -> dict[str, Any]:
    """The first event in the inspection queue matching `predicate`, waiting up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for item in peek(sqs, queue_url):
            if predicate(item["event"]):
                return dict(item["event"])
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching event in {queue_url} within {timeout} s")
        time.sleep(0.1)


class QueueRecorder:
    """Consumes a queue that only tests read, keeping every message so tests can look for their own."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.messages: list[dict[str, Any]] = []  # {"body": parsed JSON, "attributes": {name: value}}

    def drain(self, wait_seconds: int = 0) -> None:
        """Take what the queue holds now (waiting up to wait_seconds for the first message)."""
        batch = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        for message in batch:
            attributes = {k: v.get("StringValue") for k, v in message.get("MessageAttributes", {}).items()}
            self.messages.append({"body": json.loads(message["Body"]), "attributes": attributes})
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def matching(self, predicate: Predicate) -> list[dict[str, Any]]:
        return [message for message in self.messages if predicate(message["body"])]

    def wait_for(self, predicate: Predicate, timeout: float = 10, count: int = 1) -> list[dict[str, Any]]:
        """Wait until at least `count` messages match; returns all that match."""
        deadline = time.monotonic() + timeout
        while len(found := self.matching(predicate)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} matching messages in {self.queue_url} after {timeout} s")
            self.drain(1)
        return found
