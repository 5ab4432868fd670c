"""Step Functions executions in the local cloud: moto's interpreter, tasks routed to our functions and tables.

The infra tests' cloud (tests/fixtures/templates/services.yaml); the executions start together in the fixture
(they run in parallel, so the suite takes as long as the slowest one) and each test checks its own;
callback executions start in their tests, as their heartbeat clock starts with the task. Each callback
execution names its own HeartbeatSeconds (the state reads HeartbeatSecondsPath): only the heartbeat test needs
a short one, and a short one elsewhere turns a slow first invocation on a busy machine into a timeout.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from infra.launcher import RunningCloud
from infra.stepfunctions.executions import show_executions

KEY = uuid.uuid4().hex[:10]  # fixture markers in /tmp and table keys are unique per run


@dataclass
class Sfn:
    cloud: RunningCloud
    outputs: dict[str, str]
    environment: dict[str, str]
    executions: dict[str, str] = field(default_factory=dict)  # case -> execution ARN
    events_queue_url: str = ""

    def client(self, service: str) -> Any:
        variable = {"dynamodb": "AWS_ENDPOINT_URL_DYNAMODB", "stepfunctions": "AWS_ENDPOINT_URL_SFN"}
        return boto3.client(
            service, endpoint_url=self.environment[variable.get(service, "AWS_ENDPOINT_URL")],
            region_name=self.environment["AWS_REGION"], aws_access_key_id="local", aws_secret_access_key="local",
        )

    def start(self, case: str, machine: str, payload: dict[str, Any]) -> str:
        arn = self.client("stepfunctions").start_execution(
            stateMachineArn=self.outputs[machine], name=f"{case}-{KEY}", input=json.dumps(payload)
        )["executionArn"]
        self.executions[case] = arn
        return str(arn)

    def ended(self, case: str, timeout: float = 30) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = sfn.describe_execution(executionArn=self.executions[case])
            if described["status"] != "RUNNING":
                return described
            assert time.monotonic() < deadline, f"{case} still running after {timeout} s"
            time.sleep(0.05)

    def history(self, case: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.client("stepfunctions").get_execution_history(
            executionArn=self.executions[case], maxResults=1000
        )["events"]
        return events

    def token(self, key: str, timeout: float = 15) -> str:
        """The task token the fixture function stored in the Records table (DynamoDB Local)."""
        dynamodb = self.client("dynamodb")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            item = dynamodb.get_item(TableName=self.outputs["RecordsTableName"], Key={"pk": {"S": f"token#{key}"}})
            if "Item" in item:
                return str(item["Item"]["token"]["S"])
            time.sleep(0.05)
        raise AssertionError(f"no task token stored for {key}")


ORDER = {
    "orderId": "o-1",
    "key": KEY,
    "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": 3}],
    "metaJson": json.dumps({"amount": 150}),
}


@pytest.fixture(scope="module")
def sfn(cloud: RunningCloud) -> Sfn:
    state = Sfn(cloud, cloud.state["outputs"], cloud.state["environment"])
    # moto's EventBridge delivers to SQS targets itself: a rule of our own shows what putEvents sent.
    sqs, events = state.client("sqs"), state.client("events")
    state.events_queue_url = sqs.create_queue(QueueName=f"sfn-events-{KEY}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=state.events_queue_url, AttributeNames=["QueueArn"])
    events.put_rule(Name=f"sfn-{KEY}", EventBusName=state.outputs["SfnBusName"],
                    EventPattern=json.dumps({"source": ["shop.sfn-fixture"]}))
    events.put_targets(Rule=f"sfn-{KEY}", EventBusName=state.outputs["SfnBusName"],
                       Targets=[{"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}])

    state.start("main", "MainMachineArn", ORDER)
    state.start("reject", "FailingMachineArn", {"mode": "reject"})
    state.start("raise", "FailingMachineArn", {"mode": "raise"})
    state.start("taskfailed", "FailingMachineArn", {"mode": "taskfailed"})
    state.start("resilient", "ResilientMachineArn", {"key": KEY})
    state.start("timeouts", "TimeoutsMachineArn", {"key": KEY})
    return state


def test_every_state_type_and_data_flow_field(sfn: Sfn) -> None:
    described = sfn.ended("main")
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["greeting"] == "order o-1 has 3 items"  # States.Format + States.ArrayLength
    assert output["meta"] == {"amount": 150}  # States.StringToJson
    assert output["pair"] == ["o-1", 7]  # States.Array
    assert len(output["requestId"]) == 36  # States.UUID
    assert output["validated"] == {"amount": 150, "status": 200}  # ResultSelector + ResultPath
    assert output["size"] == "large"  # Choice NumericGreaterThan
    plain, dynamodb, flaky = output["fanout"]  # Parallel, branch order kept
    assert plain == {"echoed": "o-1"}  # a function ARN as Resource
    assert dynamodb == {"size": "large"}  # dynamodb:putItem then getItem
    assert flaky == {"attempts": 3}  # Retry (JitterStrategy FULL), OutputPath
    assert [line["line"] for line in output["lines"]] == [  # Map with ItemSelector and $$.Map.Item
        {"sku": "a", "qty": 1, "index": 0}, {"sku": "b", "qty": 2, "index": 1}, {"sku": "c", "qty": 3, "index": 2}
    ]
    assert output["payment"]["Error"] == "PaymentDeclined"  # Catch by the exception's class name
    assert json.loads(output["payment"]["Cause"])["errorMessage"] == "card declined"
    assert output["announce"] == {"failed": 0}

    entered = {event["type"] for event in sfn.history("main")}
    for kind in ("Pass", "Task", "Choice", "Wait", "Parallel", "Map", "Succeed"):
        assert f"{kind}StateEntered" in entered, kind
    failures = [e["taskFailedEventDetails"]["error"] for e in sfn.history("main") if e["type"] == "TaskFailed"]
    assert failures.count("FlakyError") == 2


def test_dynamodb_task_writes_to_dynamodb_local(sfn: Sfn) -> None:
    assert sfn.ended("main")["status"] == "SUCCEEDED"
    item = sfn.client("dynamodb").get_item(
        TableName=sfn.outputs["RecordsTableName"], Key={"pk": {"S": f"order#{KEY}"}}
    )
    assert item["Item"]["size"] == {"S": "large"}


def test_put_events_task_reaches_moto_eventbridge(sfn: Sfn) -> None:
    assert sfn.ended("main")["status"] == "SUCCEEDED"
    sqs = sfn.client("sqs")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=sfn.events_queue_url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            event = json.loads(messages[0]["Body"])
            assert event["detail-type"] == "OrderProcessed"
            assert event["detail"] == {"orderId": "o-1", "key": KEY}
            return
    raise AssertionError("the putEvents task's event never reached the rule's queue")


def test_fail_state_and_uncaught_task_error(sfn: Sfn) -> None:
    rejected = sfn.ended("reject")
    assert (rejected["status"], rejected["error"], rejected["cause"]) == ("FAILED", "OrderRejected", "too many items")
    raised = sfn.ended("raise")
    assert (raised["status"], raised["error"]) == ("FAILED", "PaymentDeclined")
    assert json.loads(raised["cause"])["errorMessage"] == "card declined"


def test_states_task_failed_catches_a_function_error(sfn: Sfn) -> None:
    described = sfn.ended("taskfailed")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["caught"]["Error"] == "PaymentDeclined"


def test_execution_survives_the_function_worker_dying(sfn: Sfn) -> None:
    described = sfn.ended("resilient")
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"attempts": 2, "survived": True}
    errors = [e["lambdaFunctionFailedEventDetails"]["error"] for e in sfn.history("resilient")
              if e["type"] == "LambdaFunctionFailed"]
    assert errors == ["Runtime.ExitError"]


def test_task_timeout_and_missed_heartbeat(sfn: Sfn) -> None:
    described = sfn.ended("timeouts")
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["timeout"]["Error"] == "States.Timeout"
    assert output["heartbeat"]["Error"] == "States.HeartbeatTimeout"


def test_heartbeats_keep_a_callback_alive_then_task_success(sfn: Sfn) -> None:
    client = sfn.client("stepfunctions")
    heartbeat = 8  # seconds; long enough for the callback function to store its token on a busy machine
    sfn.start("approve", "CallbackMachineArn", {"key": f"{KEY}-approve", "heartbeatSeconds": heartbeat})
    token = sfn.token(f"{KEY}-approve")
    until = time.monotonic() + heartbeat + 1.5  # outlive one heartbeat window: only the heartbeats keep it alive
    while time.monotonic() < until:
        client.send_task_heartbeat(taskToken=token)
        time.sleep(0.5)
    assert client.describe_execution(executionArn=sfn.executions["approve"])["status"] == "RUNNING"
    client.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    described = sfn.ended("approve")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}


def test_task_failure_cause_is_visible(sfn: Sfn) -> None:
    client = sfn.client("stepfunctions")
    sfn.start("decline", "CallbackMachineArn", {"key": f"{KEY}-decline", "heartbeatSeconds": 60})
    client.send_task_failure(taskToken=sfn.token(f"{KEY}-decline"), error="Declined", cause="card expired")
    described = sfn.ended("decline")
    outcome = (described["status"], described.get("error"), described.get("cause"))
    assert outcome == ("FAILED", "Declined", "card expired"), sfn.history("decline")


def test_a_callback_that_comes_before_the_invoke_returns_still_ends_the_task(sfn: Sfn) -> None:
    # The function sends a heartbeat and then the failure with its own token before it returns (a 60 s
    # heartbeat window): the execution ends with that failure at once, not with States.HeartbeatTimeout.
    answer = {"error": "Declined", "cause": "answered first"}
    sfn.start("early", "CallbackMachineArn", {"key": f"{KEY}-early", "heartbeatSeconds": 60, "answerFirst": answer})
    described = sfn.ended("early")
    outcome = (described["status"], described.get("error"), described.get("cause"))
    assert outcome == ("FAILED", "Declined", "answered first"), sfn.history("early")


def test_stop_and_list_executions(sfn: Sfn) -> None:
    client = sfn.client("stepfunctions")
    sfn.start("stop", "CallbackMachineArn", {"key": f"{KEY}-stop", "heartbeatSeconds": 60})
    sfn.token(f"{KEY}-stop")  # the execution is waiting for its callback
    client.stop_execution(executionArn=sfn.executions["stop"], error="Cancelled", cause="by the test")
    stopped = sfn.ended("stop", timeout=5)  # at once, not when the heartbeat (60 s) runs out
    assert stopped["status"] == "ABORTED"
    aborted = [e for e in sfn.history("stop") if e["type"] == "ExecutionAborted"]
    assert aborted[0]["executionAbortedEventDetails"] == {"error": "Cancelled", "cause": "by the test"}
    names = {e["name"] for e in client.list_executions(stateMachineArn=sfn.outputs["CallbackMachineArn"])["executions"]}
    assert {f"approve-{KEY}", f"decline-{KEY}", f"stop-{KEY}"} <= names


def test_inspect_executions_command(sfn: Sfn, capsys: pytest.CaptureFixture[str]) -> None:
    sfn.ended("raise")
    assert show_executions(sfn.cloud.state, name=None, limit=50) == 0
    listing = capsys.readouterr().out
    assert f"raise-{KEY}" in listing and "FAILED" in listing
    assert show_executions(sfn.cloud.state, name=f"raise-{KEY}", limit=50) == 0
    detail = capsys.readouterr().out
    assert "Charge" in detail and "PaymentDeclined" in detail and "card declined" in detail

