"""The Lambda API as boto3 sees it: invoke (all three types), errors, log tails, list/get functions."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.awslambda.invoke_api import create_lambda_api_app
from infra.awslambda.workers import FunctionRuntime

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"


@pytest.fixture(scope="module")
def runtime(loop_thread, make_spec, endpoints) -> Iterator[FunctionRuntime]:
    specs = {name: make_spec(name) for name in ("echo", "raise", "print")}
    runtime = loop_thread.call(lambda: FunctionRuntime(specs, endpoints, event_retry_delays=(0.01, 0.01)))
    yield runtime
    loop_thread.run(runtime.close())


@pytest.fixture(scope="module")
def client(loop_thread, runtime) -> Any:
    url = loop_thread.serve(create_lambda_api_app(runtime))
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize("name", ["echo", ARN.format("echo"), "123456789012:function:echo", "echo:$LATEST"])
def test_request_response_returns_the_payload(client, name):
    response = client.invoke(FunctionName=name, Payload=json.dumps({"hello": "world"}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert response["ResponseMetadata"]["RequestId"]
    assert json.loads(response["Payload"].read()) == {"hello": "world"}


def test_qualifier_latest_is_accepted(client):
    response = client.invoke(FunctionName="echo", Qualifier="$LATEST", Payload=b"[1, 2]")
    assert json.loads(response["Payload"].read()) == [1, 2]


def test_function_error_is_reported_in_the_header(client):
    response = client.invoke(FunctionName="raise", Payload=b'{"message": "no stock"}')
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "PaymentDeclinedError" and body["errorMessage"] == "no stock"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]


def test_event_invocation_is_accepted_and_runs_later(client, loop_thread, runtime):
    before = loop_thread.call(lambda: runtime.stats()["echo"]["invocations"])
    response = client.invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"async": true}')
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    deadline = time.monotonic() + 30
    while loop_thread.call(lambda: runtime.stats()["echo"]["invocations"]) == before:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_dry_run_checks_the_function_only(client):
    assert client.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204


def test_unknown_function_is_resource_not_found(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as error:
        client.invoke(FunctionName="nope", Payload=b"{}")
    assert error.value.response["Error"]["Message"] == f"Function not found: {ARN.format('nope')}"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="echo", Qualifier="live", Payload=b"{}")


def test_invalid_json_payload_is_rejected(client):
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="echo", Payload=b"{not json")


def test_log_tail_has_this_invocations_log(client):
    response = client.invoke(FunctionName="print", Payload=b"{}", LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode(errors="replace")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST")
    assert "hello from print" in log
    assert f"REPORT RequestId: {request_id}" in log


def test_list_and_get_functions(client):
    names = {function["FunctionName"] for function in client.list_functions()["Functions"]}
    assert names == {"echo", "raise", "print"}
    function = client.get_function(FunctionName="echo")
    configuration = function["Configuration"]
    assert configuration["FunctionArn"] == ARN.format("echo")
    assert configuration["Handler"] == "app.lambda_handler"
    assert configuration["Runtime"] == "python3.11"
    assert configuration["Timeout"] == 3 and configuration["MemorySize"] == 128
    assert configuration["Environment"]["Variables"] == {"FIXTURE": "echo"}
    assert client.get_function_configuration(FunctionName=ARN.format("echo"))["FunctionName"] == "echo"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="nope")
