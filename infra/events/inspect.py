"""`python -m infra events [--follow] [--limit N]`: the domain events emitted, read from the inspection queue.

template.yaml's InspectionRule (outside prod) copies every event on the shop bus into InspectionQueue
(messages kept one day). Reading must not take the events from other readers (tests assert on the same
queue), so peek() receives every message with a short visibility timeout, then makes them all visible
again at once with ChangeMessageVisibility 0: nothing is deleted, and another reader waits at most the
few milliseconds the peek takes.
"""

from __future__ import annotations

import json
import time
from typing import Any

PEEK_VISIBILITY_SECONDS = 5  # only if a peek dies half-way; otherwise released at once
MAX_MESSAGES = 10_000


def peek(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now in the queue, oldest first, as {"messageId", "sentAt", "event"}; none removed."""
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


def format_event(event: dict[str, Any], width: int = 160) -> str:
    detail = json.dumps(event.get("detail", {}), separators=(",", ":"), sort_keys=True)
    line = f"{event.get('time', '?'):20}  {event.get('source', '?'):<18} {event.get('detail-type', '?'):<22} {detail}"
    return line if len(line) <= width else line[: width - 1] + "…"


def _client(state: dict[str, Any]) -> Any:
    import boto3

    env = state["environment"]
    return boto3.client(
        "sqs", endpoint_url=env.get("AWS_ENDPOINT_URL_SQS") or env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip


def show_events(state: dict[str, Any], *, follow: bool, limit: int) -> int:
    queue_url = state.get("outputs", {}).get("InspectionQueueUrl")
    if not queue_url:
        raise SystemExit("no InspectionQueueUrl output: the inspection queue exists only outside prod (Stage=dev)")
    sqs = _client(state)
    seen: set[str] = set()
    first = True
    while True:
        events = [item for item in peek(sqs, queue_url) if item["messageId"] not in seen]
        seen.update(item["messageId"] for item in events)
        if first:
            events = events[-limit:] if limit > 0 else events
            if not events and not follow:
                print("no events in the inspection queue yet")
            first = False
        for item in events:
            print(format_event(item["event"]), flush=True)
        if not follow:
            return 0
        try:
            time.sleep(1)
        except KeyboardInterrupt:
            return 0
