"""DynamoDB Streams event source mappings, end to end: writes to DynamoDB Local reach the fixture functions
the way Lambda's stream poller delivers them (order, batches, failures, bisect, destinations, filters)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from infra.launcher import RunningCloud
from tests.support.polling import eventually


class StreamsCloud:
    def __init__(self, cloud: RunningCloud) -> None:
        env = cloud.state["environment"]
        credentials = {
            "region_name": env["AWS_REGION"],
            "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        }
        self.outputs: dict[str, str] = cloud.state["outputs"]
        self.dynamodb = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], **credentials)
        self.sqs = boto3.client("sqs", endpoint_url=env["AWS_ENDPOINT_URL_SQS"], **credentials)

    def put(self, table: str, pk: str, **attributes: dict[str, Any]) -> None:
        self.dynamodb.put_item(TableName=self.outputs[table], Item={"pk": {"S": pk}, **attributes})

    def log(self, run: str) -> list[dict[str, Any]]:
        """What the functions received for this run, in the order they received it."""
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.outputs["LogTableName"],
            "KeyConditionExpression": "pk = :run",
            "ExpressionAttributeValues": {":run": {"S": run}},
            "ConsistentRead": True,
        }
        while True:
            page = self.dynamodb.query(**request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [
            {
                "record": json.loads(item["record"]["S"]),
                "requestId": item["requestId"]["S"],
                "position": int(item["position"]["N"]),
                "batchSize": int(item["batchSize"]["N"]),
                "ok": item["ok"]["BOOL"],
            }
            for item in items
        ]

    def wait_log(self, run: str, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        return eventually(lambda: entries if done(entries := self.log(run)) else None)

    def failure_records(self, queue_output: str, count: int) -> list[dict[str, Any]]:
        url = self.outputs[queue_output]
        found: list[dict[str, Any]] = []

        def receive() -> list[dict[str, Any]] | None:
            for message in self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            ):
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return found if len(found) >= count else None

        return eventually(receive, timeout=30)


def pk_of(entry: dict[str, Any]) -> str:
    return str(entry["record"]["dynamodb"]["Keys"]["pk"]["S"])


def invocations(entries: list[dict[str, Any]]) -> list[list[str]]:
    """The batches each invocation received (log order is receipt order), as lists of item keys."""
    batches: dict[str, list[str]] = {}
    for entry in entries:
        batches.setdefault(entry["requestId"], []).append(pk_of(entry))
    return list(batches.values())


@pytest.fixture(scope="module")
def streams(cloud: RunningCloud) -> StreamsCloud:
    return StreamsCloud(cloud)


def test_records_of_one_key_arrive_in_sequence_order_with_lambdas_shape(streams: StreamsCloud) -> None:
    run = uuid.uuid4().hex
    for n in range(30):
        streams.dynamodb.update_item(
            TableName=streams.outputs["OrderTableName"], Key={"pk": {"S": f"{run}#key"}},
            UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": {"N": str(n)}},
        )  # fmt: skip
    entries = streams.wait_log(run, lambda log: len(log) >= 30)
    records = [entry["record"] for entry in entries]
    assert len(records) == 30
    assert [int(r["dynamodb"]["NewImage"]["n"]["N"]) for r in records] == list(range(30))
    sequence_numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence_numbers == sorted(sequence_numbers)
    assert [r["eventName"] for r in records] == ["INSERT"] + ["MODIFY"] * 29
    assert max(entry["batchSize"] for entry in entries) <= 7  # BatchSize: 7
    first, second = records[0], records[1]
    assert {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"} <= set(
        first
    )
    assert first["eventVersion"] == "1.1" and first["eventSource"] == "aws:dynamodb"
    assert first["awsRegion"] == "us-east-1"
    assert ":table/marketplace-OrderTable/stream/" in first["eventSourceARN"]
    assert "userIdentity" not in first
    dynamodb = second["dynamodb"]
    assert dynamodb["Keys"] == {"pk": {"S": f"{run}#key"}}
    assert dynamodb["OldImage"]["n"] == {"N": "0"} and dynamodb["NewImage"]["n"] == {"N": "1"}
    assert dynamodb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(dynamodb["ApproximateCreationDateTime"], float) and dynamodb["SizeBytes"] > 0


def test_filter_criteria_drop_records_that_do_not_match(streams: StreamsCloud) -> None:
    run = uuid.uuid4().hex
    streams.put("FilterTableName", f"{run}#pending", status={"S": "PENDING"})
    streams.put("FilterTableName", f"{run}#paid", status={"S": "PAID"})
    streams.put("FilterTableName", f"{run}#pending", status={"S": "PAID"})  # a MODIFY: not an INSERT
    streams.dynamodb.delete_item(TableName=streams.outputs["FilterTableName"], Key={"pk": {"S": f"{run}#paid"}})
    streams.put("FilterTableName", f"{run}#last", status={"S": "PAID"})
    # Records of a shard arrive in order: once the last one is in, nothing before it can still come.
    entries = streams.wait_log(run, lambda log: any(pk_of(e).endswith("#last") for e in log))
    assert [pk_of(entry) for entry in entries] == [f"{run}#paid", f"{run}#last"]


def test_reported_item_failure_retries_from_that_record_on(streams: StreamsCloud) -> None:
    run = uuid.uuid4().hex
    for n in range(10):
        streams.put("PartialTableName", f"{run}#{n}", poison={"BOOL": n == 4})
    entries = streams.wait_log(run, lambda log: len(log) >= 16)
    batches = invocations(entries)
    keys = [f"{run}#{n}" for n in range(10)]
    assert batches == [keys, keys[4:]]  # the first batch reported #4: #4..#9 are redelivered, #0..#3 are not
    assert [entry["ok"] for entry in entries] == [False] * 10 + [True] * 6


def test_bisect_isolates_a_poison_record_and_delivers_the_others(streams: StreamsCloud) -> None:
    run = uuid.uuid4().hex
    for n in range(10):
        streams.put("BisectTableName", f"{run}#{n}", poison={"BOOL": n == 6})
    poison = f"{run}#6"

    def settled() -> list[dict[str, Any]] | None:
        entries = streams.log(run)
        delivered = {pk_of(entry) for entry in entries if entry["ok"]}
        alone = [batch for batch in invocations(entries) if batch == [poison]]
        return entries if len(delivered) == 9 and len(alone) == 2 else None  # MaximumRetryAttempts: 1

    entries = eventually(settled)
    batches = invocations(entries)
    keys = [f"{run}#{n}" for n in range(10)]
    assert batches[0] == keys  # the whole batch failed first, then the halves were tried
    assert batches[1:3] == [keys[:5], keys[5:]]
    assert {pk_of(entry) for entry in entries if entry["ok"]} == set(keys) - {poison}
    assert all(not entry["ok"] for entry in entries if pk_of(entry) == poison)


def test_exhausted_retries_send_the_failure_record_and_unblock_the_shard(streams: StreamsCloud) -> None:
    run = uuid.uuid4().hex
    for n in range(3):
        streams.put("ExhaustTableName", f"{run}#{n}", poison={"BOOL": True})
    [failure] = streams.failure_records("ExhaustFailuresUrl", 1)
    # The shard was blocked meanwhile; once the batch is discarded, later records flow again.
    streams.put("ExhaustTableName", f"{run}#after", poison={"BOOL": False})
    entries = streams.wait_log(run, lambda log: any(e["ok"] for e in log))
    batches = invocations(entries)
    keys = [f"{run}#{n}" for n in range(3)]
    assert batches == [keys, keys, keys, [f"{run}#after"]]  # 1 try + MaximumRetryAttempts: 2
    sequence_numbers = [entry["record"]["dynamodb"]["SequenceNumber"] for entry in entries[:3]]

    assert set(failure) == {"requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"}
    assert failure["version"] == "1.0" and failure["timestamp"].endswith("Z")
    context = failure["requestContext"]
    assert context["condition"] == "RetryAttemptsExhausted"
    assert context["approximateInvokeCount"] == 3
    assert context["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:Poison"
    assert context["requestId"] == entries[8]["requestId"]  # the last (third) attempt's
    assert failure["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    info = failure["DDBStreamBatchInfo"]
    assert info["batchSize"] == 3
    assert info["startSequenceNumber"] == sequence_numbers[0] and info["endSequenceNumber"] == sequence_numbers[-1]
    assert info["shardId"].startswith("shardId-")
    assert info["streamArn"] == entries[0]["record"]["eventSourceARN"]
    assert info["approximateArrivalOfFirstRecord"].endswith("Z") and info["approximateArrivalOfLastRecord"]


def test_function_timeout_counts_as_a_failed_batch(streams: StreamsCloud) -> None:
    run = uuid.uuid4().hex
    streams.put("TimeoutTableName", f"{run}#slow")  # Sleepy sleeps 5 s with Timeout: 1
    [failure] = streams.failure_records("TimeoutFailuresUrl", 1)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 1  # MaximumRetryAttempts: 0
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
