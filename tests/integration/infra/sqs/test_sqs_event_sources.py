"""SQS event source mappings end to end on the infra tests' cloud (tests/fixtures/templates/services.yaml):
messages sent with the SDK, and what the functions received read back from the table they record into."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from infra.launcher import RunningCloud
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def sqs(cloud: RunningCloud) -> Any:
    return cloud.client("sqs")


@pytest.fixture(scope="module")
def received(cloud: RunningCloud) -> Callable[[str], list[dict[str, Any]]]:
    """Everything a queue's function recorded so far: one row per record per delivery."""
    dynamodb = cloud.client("dynamodb")
    table = cloud.state["outputs"]["QueueReceivedTableName"]

    def rows(queue_output: str) -> list[dict[str, Any]]:
        queue_name = cloud.state["outputs"][queue_output].rsplit("/", 1)[-1]
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return [
            {key: next(iter(value.values())) for key, value in item.items()}
            for item in items
            if item["queue"]["S"] == queue_name
        ]

    return rows


def wait_for(condition: Callable[[], Any], timeout: float = 60, message: str = "condition") -> Any:
    return eventually(condition, timeout, interval=0.1, message=message)


def queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def send(sqs: Any, url: str, bodies: list[Any], **extra: Any) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": body if isinstance(body, str) else json.dumps(body), **extra}
            for i, body in enumerate(bodies[start : start + 10])
        ]
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not response.get("Failed"), response
        ids += [entry["MessageId"] for entry in sorted(response["Successful"], key=lambda e: int(e["Id"]))]
    return ids


def test_batches_are_delivered_as_lambda_events_and_deleted(cloud: RunningCloud, sqs: Any, received: Any) -> None:
    url = cloud.state["outputs"]["BatchQueueUrl"]
    sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps({"n": -1}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "probe"}},
    )  # fmt: skip
    ids = send(sqs, url, [{"n": n} for n in range(25)])
    rows = wait_for(lambda: len(r := received("BatchQueueUrl")) >= 26 and r, message="26 deliveries")
    assert len(rows) == 26, "each message is delivered exactly once"
    assert set(ids) <= {row["messageId"] for row in rows}
    assert all(int(row["batchSize"]) <= 10 for row in rows)
    wait_for(lambda: queue_depth(sqs, url) == 0, message="the queue to be empty (delivered batches deleted)")

    probe = next(json.loads(row["record"]) for row in rows if json.loads(row["body"]) == {"n": -1})
    assert probe["eventSource"] == "aws:sqs"
    assert probe["eventSourceARN"].endswith(":" + url.rsplit("/", 1)[-1])
    assert probe["awsRegion"] == "us-east-1"
    assert probe["receiptHandle"] and probe["md5OfBody"]
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        probe["attributes"]
    )
    assert probe["messageAttributes"] == {
        "kind": {"stringValue": "probe", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }


def test_partial_batch_failure_redelivers_only_failed_messages_then_dead_letters_them(
    cloud: RunningCloud, sqs: Any, received: Any
) -> None:
    url, dlq = cloud.state["outputs"]["PartialQueueUrl"], cloud.state["outputs"]["PartialDlqUrl"]
    ok_ids = send(sqs, url, [{"ok": n} for n in range(4)])
    [failing_id] = send(sqs, url, [{"fail": True}])

    dead: list[dict[str, Any]] = []

    def dead_lettered() -> bool:
        dead.extend(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []))
        return bool(dead)

    wait_for(dead_lettered, timeout=20, message="the failing message in the dead-letter queue")
    assert [m["MessageId"] for m in dead] == [failing_id]
    rows = received("PartialQueueUrl")
    for ok_id in ok_ids:
        assert [int(r["receiveCount"]) for r in rows if r["messageId"] == ok_id] == [1], "succeeded once, deleted"
    assert sorted(int(r["receiveCount"]) for r in rows if r["messageId"] == failing_id) == [1, 2]
    wait_for(lambda: queue_depth(sqs, url) == 0, message="the source queue to be empty")


def test_unknown_item_identifier_fails_the_whole_batch(cloud: RunningCloud, sqs: Any, received: Any) -> None:
    url, dlq = cloud.state["outputs"]["StrictQueueUrl"], cloud.state["outputs"]["StrictDlqUrl"]
    [message_id] = send(sqs, url, [{"unknownId": True}])
    dead: list[dict[str, Any]] = []

    def dead_lettered() -> bool:
        dead.extend(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []))
        return bool(dead)

    wait_for(dead_lettered, timeout=20, message="the message in the dead-letter queue")
    assert [m["MessageId"] for m in dead] == [message_id]
    assert sorted(int(r["receiveCount"]) for r in received("StrictQueueUrl")) == [1, 2]


def test_batching_window_gathers_more_than_one_receive(cloud: RunningCloud, sqs: Any, received: Any) -> None:
    url = cloud.state["outputs"]["WindowQueueUrl"]
    ids = send(sqs, url, [{"n": n} for n in range(30)])
    rows = wait_for(lambda: len(r := received("WindowQueueUrl")) >= 30 and r, message="30 deliveries")
    assert sorted(row["messageId"] for row in rows) == sorted(ids)
    batches = {row["batchId"]: int(row["batchSize"]) for row in rows}
    # Two pollers share the queue; one ReceiveMessage returns at most ten, so a bigger batch was gathered.
    assert max(batches.values()) > 10, batches
    assert sum(batches.values()) == 30


def test_filter_criteria_deliver_matching_messages_and_delete_the_rest(
    cloud: RunningCloud, sqs: Any, received: Any
) -> None:
    url = cloud.state["outputs"]["FilterQueueUrl"]
    tag = uuid.uuid4().hex
    keep = send(sqs, url, [{"kind": "keep", "tag": tag, "n": n} for n in range(3)])
    send(sqs, url, [{"kind": "drop", "tag": tag}, "plain text, not JSON", {"kind": "keeper"}, {"other": "keep"}])
    [high] = send(
        sqs, url, ["by attribute"],
        MessageAttributes={"priority": {"DataType": "String", "StringValue": "high"}},
    )  # fmt: skip
    wait_for(lambda: queue_depth(sqs, url) == 0, message="every message consumed (non-matching ones deleted)")
    rows = wait_for(lambda: len(r := received("FilterQueueUrl")) >= 4 and r, message="4 deliveries")
    assert sorted(row["messageId"] for row in rows) == sorted([*keep, high])


def test_fifo_queue_delivers_each_group_in_order(cloud: RunningCloud, sqs: Any, received: Any) -> None:
    url = cloud.state["outputs"]["OrderedQueueUrl"]
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}), MessageGroupId=f"g{n % 2}")
    rows = wait_for(lambda: len(r := received("OrderedQueueUrl")) >= 12 and r, message="12 deliveries")
    assert len(rows) == 12
    for group in ("g0", "g1"):
        in_group = [r for r in rows if json.loads(r["record"])["attributes"]["MessageGroupId"] == group]
        # moto 5.2.5 gives FIFO messages no ordered SequenceNumber: order by delivery, then position in batch.
        in_group.sort(key=lambda r: (float(r["startedAt"]), int(r["position"])))
        assert [json.loads(r["body"])["n"] for r in in_group] == sorted(json.loads(r["body"])["n"] for r in in_group)
