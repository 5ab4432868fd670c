"""Fault injection on the infra tests' cloud (tests/fixtures/templates/services.yaml, "fault injection"): faults
set at run time over HTTP, what function code, Step Functions and event-source consumers then see, and the
counts. Every fault is scoped to this folder's own resources or lasts a second, and is cleared after each
test, so the tests sharing the cloud never see them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.faults.spec import FaultSpecError
from infra.launcher import ROOT, RunningCloud
from tests.support.faults import clear_faults, current_faults, fault_counts, set_faults
from tests.support.polling import eventually

FUNCTION = "FaultWriter"


@pytest.fixture
def faults(cloud: RunningCloud) -> Iterator[RunningCloud]:
    clear_faults(cloud)
    yield cloud
    if cloud.process.poll() is None:  # the folder's last test stops the cloud before this teardown
        clear_faults(cloud)


def invoke(cloud: RunningCloud, event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The function's answer and its FunctionError ("Unhandled" when it failed), through the Lambda API."""
    response = cloud.client("lambda").invoke(FunctionName=FUNCTION, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def test_faults_are_set_read_and_cleared_over_http(faults: RunningCloud) -> None:
    api = faults.state["endpoints"]["api"]
    with httpx.Client(base_url=api, timeout=10) as http:
        answer = http.post("/_local/faults", content="dynamodb.conflict@FaultTable=0.5,sqs.reorder=0.1")
        assert answer.status_code == 200, answer.text
        assert answer.json()["counts"] == {"dynamodb.conflict@FaultTable": 0, "sqs.reorder": 0}
        answer = http.post("/_local/faults", json={"spec": "dynamodb.throttle@PutItem=0"})
        assert answer.json()["spec"] == "dynamodb.throttle@PutItem=0"
        refused = http.post("/_local/faults", content="dynamodb.conflict=2")
        assert refused.status_code == 400
        assert "a rate is between 0 and 1" in refused.json()["message"]
        assert http.get("/_local/faults").json()["spec"] == "dynamodb.throttle@PutItem=0"  # unchanged
        assert http.delete("/_local/faults").json() == {"spec": "", "entries": [], "counts": {}}
    with pytest.raises(FaultSpecError, match="no table or DynamoDB operation 'NoSuchTable'"):
        set_faults(faults, "dynamodb.error@NoSuchTable=1")


def test_a_transaction_conflict_reaches_function_code_and_is_counted(faults: RunningCloud) -> None:
    set_faults(faults, "dynamodb.conflict@FaultTable=1")
    answer, error = invoke(faults, {"action": "transact", "key": uuid.uuid4().hex, "items": 3})
    assert error is None
    assert answer["error"] == "TransactionCanceledException"
    assert answer["retries"] == 0  # botocore never retries a cancelled transaction
    codes = [reason["Code"] for reason in answer["reasons"]]
    assert len(codes) == 3
    assert codes.count("TransactionConflict") == 1
    assert fault_counts(faults) == {"dynamodb.conflict@FaultTable": 1}

    clear_faults(faults)
    answer, _ = invoke(faults, {"action": "transact", "key": uuid.uuid4().hex, "items": 3})
    assert answer == {"written": 3}


def test_throttling_is_retried_by_the_sdk_then_raised(faults: RunningCloud) -> None:
    set_faults(faults, "dynamodb.throttle@FaultTable/UpdateItem=1")
    answer, error = invoke(faults, {"action": "count", "key": uuid.uuid4().hex})
    assert error is None
    # botocore's default (standard) retry mode gives DynamoDB 4 attempts, backing off up to 1, 2, 4 s.
    assert (answer["error"], answer["retries"]) == ("ProvisionedThroughputExceededException", 3)
    assert fault_counts(faults) == {"dynamodb.throttle@FaultTable/UpdateItem": 4}


def test_an_outage_fails_calls_to_connect_until_it_is_over(faults: RunningCloud) -> None:
    set_faults(faults, "dynamodb.outage=1")
    key = uuid.uuid4().hex
    answer, error = invoke(faults, {"action": "count", "key": key})
    assert (answer["error"], error) == ("EndpointConnectionError", None)
    assert "Could not connect to the endpoint URL" in answer["message"]
    assert fault_counts(faults)["dynamodb.outage"] == 4  # each of the SDK's attempts failed to connect
    time.sleep(max(current_faults(faults)["outageSecondsLeft"], 0) + 0.05)
    assert invoke(faults, {"action": "count", "key": key})[0]["attempts"] == 1


def test_a_killed_worker_fails_its_invocation_as_a_crashed_runtime_and_the_next_one_succeeds(
    faults: RunningCloud,
) -> None:
    set_faults(faults, f"lambda.kill={FUNCTION}:1")
    key = uuid.uuid4().hex
    answer, error = invoke(faults, {"action": "count", "key": key})
    assert error == "Unhandled"
    assert answer["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 1" in answer["errorMessage"]
    answer, error = invoke(faults, {"action": "count", "key": key})
    assert (answer, error) == ({"attempts": 2, "seconds": answer["seconds"]}, None)  # the first write was done
    described = current_faults(faults)
    assert described["counts"] == {"lambda.kill": 1}
    assert described["killsLeft"] == {FUNCTION: 0}


def test_step_functions_retries_a_killed_task_on_runtime_exit_error(faults: RunningCloud) -> None:
    set_faults(faults, f"lambda.kill={FUNCTION}:1")
    sfn = faults.client("stepfunctions")
    key = uuid.uuid4().hex  # named: moto lists an unnamed execution without a name, which `executions` needs
    started = sfn.start_execution(stateMachineArn=faults.state["outputs"]["FaultMachineArn"],
                                  name=f"killed-{key}", input=json.dumps({"key": key}))  # fmt: skip

    def ended() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=started["executionArn"])
        return described if described["status"] != "RUNNING" else None

    described = eventually(ended, timeout=15, message="the execution ends")
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["attempts"] == 2
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    # A function ARN as Resource: its failures are LambdaFunctionFailed events (TaskFailed for lambda:invoke).
    failures = [
        event["lambdaFunctionFailedEventDetails"] for event in history if event["type"] == "LambdaFunctionFailed"
    ]
    assert [failure["error"] for failure in failures] == ["Runtime.ExitError"], history
    assert "Runtime exited with error: exit status 1" in failures[0]["cause"]


def test_provider_entries_reach_the_workers_environment_and_leave_it(faults: RunningCloud) -> None:
    set_faults(faults, "provider.fail=0.05,provider.timeout=0.02")
    assert invoke(faults, {"action": "provider"})[0] == {"faults": "fail=0.05,timeout=0.02"}
    clear_faults(faults)
    assert invoke(faults, {"action": "provider"})[0] == {"faults": None}


def _log_of(cloud: RunningCloud, run: str) -> list[dict[str, Any]]:
    dynamodb = cloud.client("dynamodb")
    items = dynamodb.query(
        TableName=cloud.state["outputs"]["LogTableName"], KeyConditionExpression="pk = :run",
        ExpressionAttributeValues={":run": {"S": run}}, ConsistentRead=True,
    )["Items"]  # fmt: skip
    return [json.loads(item["record"]["S"]) for item in items]


def test_a_stream_batch_is_delivered_twice(faults: RunningCloud) -> None:
    set_faults(faults, "stream.duplicate@FaultTable=1")
    run = uuid.uuid4().hex
    faults.client("dynamodb").put_item(TableName=faults.state["outputs"]["FaultTableName"],
                                       Item={"pk": {"S": f"{run}#1"}})  # fmt: skip
    records = eventually(lambda: found if len(found := _log_of(faults, run)) >= 2 else None, timeout=30)
    assert len({record["eventID"] for record in records}) == 1  # the same record, delivered twice
    assert fault_counts(faults)["stream.duplicate@FaultTable"] >= 1


def _received(cloud: RunningCloud, run: str) -> list[dict[str, Any]]:
    dynamodb = cloud.client("dynamodb")
    rows: list[dict[str, Any]] = []
    table = cloud.state["outputs"]["QueueReceivedTableName"]
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        rows += [item for item in page["Items"] if json.loads(item["body"]["S"]).get("run") == run]
    return rows


def test_queue_messages_are_duplicated_and_batches_reordered(faults: RunningCloud) -> None:
    set_faults(faults, "sqs.duplicate@FaultQueue=1,sqs.reorder@FaultQueue=1")
    run = uuid.uuid4().hex
    sqs = faults.client("sqs")
    entries = [{"Id": str(n), "MessageBody": json.dumps({"run": run, "n": n})} for n in range(10)]
    sent = sqs.send_message_batch(QueueUrl=faults.state["outputs"]["FaultQueueUrl"], Entries=entries)
    assert not sent.get("Failed"), sent
    rows = eventually(lambda: found if len(found := _received(faults, run)) >= 20 else None, timeout=15)
    per_message: dict[str, int] = {}
    for row in rows:
        per_message[row["messageId"]["S"]] = per_message.get(row["messageId"]["S"], 0) + 1
    assert sorted(per_message.values()) == [2] * 10  # every message twice, in two invocations
    counts = fault_counts(faults)
    assert counts["sqs.duplicate@FaultQueue"] == 10
    assert counts["sqs.reorder@FaultQueue"] >= 1
    batches: dict[str, list[tuple[int, int]]] = {}
    for row in rows:
        batches.setdefault(row["batchId"]["S"], []).append(
            (int(row["position"]["N"]), json.loads(row["body"]["S"])["n"])
        )
    orders = [[n for _, n in sorted(batch)] for batch in batches.values() if len(batch) > 1]
    assert any(order != sorted(order) for order in orders), orders  # a batch came in another order than sent


def test_the_cli_sets_shows_and_clears_faults(faults: RunningCloud) -> None:
    api = faults.state["endpoints"]["api"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infra", "faults", *args, "--url", api], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    shown = cli("sqs.reorder@FaultQueue=0.5")
    assert shown.returncode == 0, shown.stderr
    assert "faults: sqs.reorder@FaultQueue=0.5" in shown.stdout
    assert "sqs.reorder@FaultQueue" in cli("show").stdout
    refused = cli("sqs.reorder=lots")
    assert refused.returncode == 2
    assert "'lots' is not a number" in refused.stdout
    assert current_faults(faults)["spec"] == "sqs.reorder@FaultQueue=0.5"
    assert cli("off").stdout.strip() == "no faults"
    assert current_faults(faults)["spec"] == ""


def test_an_invalid_spec_stops_the_cloud_before_it_starts() -> None:
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "infra", "run", "--faults", "dynamodb.explode=1"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode != 0
    assert "unknown fault 'dynamodb.explode'" in result.stderr
    assert time.monotonic() - began < 30
