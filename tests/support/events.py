"""Waiting for events in tests: what a rule delivered to a queue, or what the shop emitted on its bus.

On the local cloud the shop's emitted events are read from the cloud's event log (`GET /_local/events`,
every event the buses routed), long-polled with the detail-type filtered by the server and the test's
predicate applied here; reading starts at the log's first event, so an event published before the call
is found too. Against another stack (SHOP_API_URL set) they are peeked, without removing anything, from
the stack's inspection queue (template.yaml's InspectionRule copies every event on the bus into it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infra.events.inspect import read_events

if TYPE_CHECKING:
    from tests.conftest import Stack

Predicate = Callable[[dict[str, Any]], bool]
PEEK_VISIBILITY_SECONDS = 5  # only if a peek dies half-way; otherwise released at once
MAX_MESSAGES = 10_000


def wait_for_event(stack: Stack, predicate: Predicate, timeout: float = 10, type: str | None = None) -> dict[str, Any]:
    """The first event the stack emitted matching `predicate` (and `type`, its detail-type), waiting up to
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    if stack.local:
        after = 0
        while True:
            wait = min(max(deadline - time.monotonic(), 0), 20)
            found = read_events(stack.api_url, after=after, type=type, wait=wait)["events"]
            for item in found:
                if predicate(item["event"]):
                    return dict(item["event"])
            after = found[-1]["seq"] if found else after
            if not found and time.monotonic() >= deadline:
                raise AssertionError(f"no matching event in the event log within {timeout} s")
    while True:
        for event in events_matching(stack, predicate, type):
            return event
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching event in {stack.outputs['InspectionQueueUrl']} within {timeout} s")
        time.sleep(0.1)


def events_matching(stack: Stack, predicate: Predicate, type: str | None = None) -> list[dict[str, Any]]:
    """Every event the stack emitted so far that matches `predicate` (and `type`), oldest first."""
    if stack.local:
        events, after = [], 0
        while found := read_events(stack.api_url, after=after, type=type)["events"]:
            events += [item["event"] for item in found]
            after = found[-1]["seq"]
    else:
        events = [item["event"] for item in peek(stack.client("sqs"), stack.outputs["InspectionQueueUrl"])]
    return [event for event in events if (type is None or event.get("detail-type") == type) and predicate(event)]


def peek(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now in the queue, oldest first, as {"messageId", "sentAt", "event"}; none removed.

    Reading must not take the events from other readers, so every message is received with a short
    visibility timeout, then all are made visible again at once with ChangeMessageVisibility 0.
    """
    received: list[dict[str, Any]] = []
    try:
        while len(received) < MAX_MESSAGES:
            batch = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])  # fmt: skip
            if not batch:
                break
            received.extend(batch)
    finally:
        for start in range(0, len(received), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(received[start : start + 10])
            ]
            sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
    events = []
    for message in received:
        try:
            event = json.loads(message["Body"])
        except ValueError:
            event = {"detail": message["Body"]}
        events.append(
            {"messageId": message["MessageId"], "sentAt": int(message["Attributes"]["SentTimestamp"]), "event": event}
        )
    events.sort(key=lambda item: (item["sentAt"], str(item["event"].get("time", ""))))
    return events


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
