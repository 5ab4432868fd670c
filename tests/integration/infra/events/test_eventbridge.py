"""EventBridge end to end: PutEvents on moto's API -> the template's rules -> Lambda, SQS and Step Functions
targets; retries and the DLQ; schedules on an accelerated clock; the main template's inspection queue.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest

from infra.launcher import RunningCloud
from tests.support.events import QueueRecorder, wait_for_event


def _client(environment: dict[str, str], service: str) -> Any:
    return boto3.client(
        service, endpoint_url=environment["AWS_ENDPOINT_URL"], region_name=environment["AWS_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"], aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def aws(cloud: RunningCloud) -> dict[str, Any]:
    return {name: _client(cloud.state["environment"], name) for name in ("events", "sqs", "stepfunctions")}


@pytest.fixture(scope="module")
def recorded(cloud: RunningCloud, aws: dict[str, Any]) -> QueueRecorder:
    return QueueRecorder(aws["sqs"], cloud.state["outputs"]["RecordQueueUrl"])


@pytest.fixture(scope="module")
def sqs_targets(cloud: RunningCloud, aws: dict[str, Any]) -> QueueRecorder:
    return QueueRecorder(aws["sqs"], cloud.state["outputs"]["SqsTargetQueueUrl"])


@pytest.fixture(scope="module")
def dead_letters(cloud: RunningCloud, aws: dict[str, Any]) -> QueueRecorder:
    return QueueRecorder(aws["sqs"], cloud.state["outputs"]["DeadLetterQueueUrl"])


def put(aws: dict[str, Any], cloud: RunningCloud, source: str, detail: dict[str, Any], detail_type: str = "T") -> str:
    response = aws["events"].put_events(
        Entries=[{"EventBusName": cloud.state["outputs"]["EventsBusName"], "Source": source, "DetailType": detail_type,
                  "Detail": json.dumps(detail), "Resources": ["arn:aws:test:::thing"]}]
    )  # fmt: skip
    assert response["FailedEntryCount"] == 0, response
    return str(response["Entries"][0]["EventId"])


def test_matching_event_reaches_the_function_as_an_eventbridge_envelope(
    cloud: RunningCloud, aws: dict[str, Any], recorded: QueueRecorder
) -> None:
    marker = uuid.uuid4().hex
    event_id = put(aws, cloud, "shop.orders", {"total": 500, "marker": marker}, "OrderCreated")
    put(aws, cloud, "shop.orders", {"total": 5000, "marker": marker}, "OrderCreated")  # numeric range misses
    put(aws, cloud, "other.orders", {"total": 500, "marker": marker}, "OrderCreated")  # prefix misses
    [message] = recorded.wait_for(lambda body: body["event"].get("detail", {}).get("marker") == marker)
    event = message["body"]["event"]
    assert message["body"]["function"] == "Recorder"
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["id"] == event_id
    assert (event["version"], event["source"], event["detail-type"]) == ("0", "shop.orders", "OrderCreated")
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"
    assert event["resources"] == ["arn:aws:test:::thing"]
    assert event["time"].endswith("Z") and event["detail"] == {"total": 500, "marker": marker}
    time.sleep(0.5)  # give the two non-matching events the time a delivery takes
    recorded.drain()
    assert len(recorded.matching(lambda body: body["event"].get("detail", {}).get("marker") == marker)) == 1


def test_input_transformer_and_input_path(cloud: RunningCloud, aws: dict[str, Any], recorded: QueueRecorder) -> None:
    order_id = uuid.uuid4().hex
    lines = [{"sku": "A-1", "qty": 2}]
    put(aws, cloud, "test.transform", {"id": order_id, "amount": 1250, "lines": lines})
    [message] = recorded.wait_for(lambda body: body["event"].get("orderId") == order_id)
    delivered = message["body"]["event"]
    assert delivered["text"] == f"order {order_id} costs 1250"
    assert (delivered["amount"], delivered["lines"], delivered["first"]) == (1250, lines, "A-1")
    assert delivered["rule"] == "marketplace-RecorderTransformed"
    assert delivered["original"]["detail"]["id"] == order_id

    marker = uuid.uuid4().hex
    put(aws, cloud, "test.inputpath", {"payload": {"marker": marker, "n": 1}})
    [message] = recorded.wait_for(lambda body: body["event"].get("marker") == marker)
    assert message["body"]["event"] == {"marker": marker, "n": 1}


@pytest.mark.parametrize(
    ("rule", "matching", "missing"),
    [
        ("AnythingButRule", {"op": "anything-but", "state": "running"}, {"op": "anything-but", "state": "internal"}),
        ("ExistsFalseRule", {"op": "exists"}, {"op": "exists", "coupon": "X"}),
        ("CidrOrRule", {"op": "cidr-or", "name": "api.example.com"}, {"op": "cidr-or", "ip": "10.0.1.1"}),
        ("ArrayOfObjectsRule", {"op": "lines", "lines": [{"sku": "x"}, {"sku": "abc-1", "note": None}]},
         {"op": "lines", "lines": [{"sku": "abc-1", "note": "n"}]}),
    ],
)  # fmt: skip
def test_operators_route_to_sqs_targets(
    cloud: RunningCloud,
    aws: dict[str, Any],
    sqs_targets: QueueRecorder,
    rule: str,
    matching: dict[str, Any],
    missing: dict[str, Any],
) -> None:
    marker = uuid.uuid4().hex
    put(aws, cloud, "test.ops", {**missing, "marker": marker, "expect": False})
    put(aws, cloud, "test.ops", {**matching, "marker": marker, "expect": True})

    def mine(body: dict[str, Any]) -> bool:
        return bool(body["event"]["detail"]["marker"] == marker)

    [message] = sqs_targets.wait_for(mine)
    assert message["body"]["rule"] == f"marketplace-{rule}"
    assert message["body"]["event"]["detail"]["expect"] is True
    time.sleep(0.3)  # deliveries of one PutEvents batch land within milliseconds of each other
    sqs_targets.drain()
    assert len(sqs_targets.matching(mine)) == 1


def test_throttled_function_is_retried_then_dead_lettered(
    cloud: RunningCloud, aws: dict[str, Any], dead_letters: QueueRecorder
) -> None:
    marker = uuid.uuid4().hex
    began = time.monotonic()
    event_id = put(aws, cloud, "test.throttle", {"marker": marker})
    [message] = dead_letters.wait_for(lambda body: body.get("detail", {}).get("marker") == marker, timeout=15)
    assert time.monotonic() - began >= 1.4  # two retries after 0.5 s and 1 s of back-off
    assert message["body"]["id"] == event_id
    attributes = message["attributes"]
    assert attributes["ERROR_CODE"] == "THROTTLING"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["RULE_ARN"].endswith("rule/eb-test-bus/marketplace-ThrottledThrottle")
    assert attributes["TARGET_ARN"].endswith(":function:Throttled")


def test_missing_target_goes_to_the_dlq_without_retries(
    cloud: RunningCloud, aws: dict[str, Any], dead_letters: QueueRecorder
) -> None:
    marker = uuid.uuid4().hex
    put(aws, cloud, "test.missing", {"marker": marker})
    [message] = dead_letters.wait_for(lambda body: body.get("detail", {}).get("marker") == marker)
    assert message["attributes"]["ERROR_CODE"] == "RESOURCE_NOT_FOUND"
    assert "RETRY_ATTEMPTS" not in message["attributes"]


def test_function_errors_use_lambdas_async_retries_not_the_rules_dlq(
    cloud: RunningCloud, aws: dict[str, Any], recorded: QueueRecorder, dead_letters: QueueRecorder
) -> None:
    marker = uuid.uuid4().hex
    put(aws, cloud, "test.raise", {"marker": marker})
    attempts = recorded.wait_for(
        lambda body: body["event"].get("detail", {}).get("marker") == marker, timeout=15, count=3
    )
    assert {a["body"]["function"] for a in attempts} == {"Flaky"}
    dead_letters.drain()
    assert len({a["body"]["requestId"] for a in attempts}) == 1  # one async request, retried by Lambda
    assert not dead_letters.matching(lambda body: body.get("detail", {}).get("marker") == marker)


def test_step_functions_target_starts_an_execution(cloud: RunningCloud, aws: dict[str, Any]) -> None:
    machine = cloud.state["outputs"]["MachineArn"]
    marker = uuid.uuid4().hex
    put(aws, cloud, "test.sfn", {"marker": marker})
    deadline = time.monotonic() + 30
    while True:
        for execution in aws["stepfunctions"].list_executions(stateMachineArn=machine)["executions"]:
            described = aws["stepfunctions"].describe_execution(executionArn=execution["executionArn"])
            if marker in described["input"]:
                assert json.loads(described["input"])["source"] == "test.sfn"
                return
        assert time.monotonic() < deadline, "no execution started"
        time.sleep(0.1)


def test_schedules_fire_on_the_accelerated_clock(cloud: RunningCloud, aws: dict[str, Any]) -> None:
    ticks = QueueRecorder(aws["sqs"], cloud.state["outputs"]["TickQueueUrl"])
    rates = ticks.wait_for(lambda body: body.get("function") == "TickRecorder", timeout=30, count=2)
    assert rates[0]["body"]["event"] == {"tick": "rate"}
    [scheduled, *_] = ticks.wait_for(lambda body: body.get("detail-type") == "Scheduled Event", timeout=30)
    event = scheduled["body"]
    assert (event["source"], event["detail"], event["version"]) == ("aws.events", {}, "0")
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/marketplace-CronRule"]
    assert event["time"].endswith(":00Z")  # cron fires on the minute (of the accelerated clock)


def test_inspection_queue_copies_every_event_on_the_shop_bus(stack: Any) -> None:
    """On the main template (the session's cloud, EnableDiagnostics=true): the inspection rule."""
    if "InspectionQueueUrl" not in stack.outputs:
        pytest.skip("the stack has no inspection queue (prod)")
    events, sqs = stack.client("events"), stack.client("sqs")
    inspection = QueueRecorder(sqs, stack.outputs["InspectionQueueUrl"])
    sqs.purge_queue(QueueUrl=inspection.queue_url)  # whatever came before does not matter here
    marker = uuid.uuid4().hex
    events.put_events(Entries=[{"EventBusName": stack.outputs["EventBusName"], "Source": "shop.test",
                                "DetailType": "Probe", "Detail": json.dumps({"marker": marker})}])  # fmt: skip
    [message] = inspection.wait_for(lambda e: e["detail"].get("marker") == marker)
    event = message["body"]
    assert (event["source"], event["detail-type"]) == ("shop.test", "Probe")
    if stack.local:  # the queue's copy is the event the bus routed, as the local event log holds it too
        assert wait_for_event(stack, lambda e: e["detail"].get("marker") == marker, type="Probe") == event
