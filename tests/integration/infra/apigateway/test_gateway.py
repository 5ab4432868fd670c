"""The gateway and the function workers as a client sees them: errors, timeouts, throttling, events."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest


def test_health_reports_the_services(api, local_only):
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["services"]["dynamodb"]["running"] and body["services"]["moto"]["running"]


def test_unknown_route_is_404(api):
    response = api.get("/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_handler_exception_is_a_500_with_request_id_and_logged_traceback(api, local_only):
    response = api.get("/_diagnostics/raise")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}
    request_id = response.headers["apigw-requestid"]
    assert request_id
    log = (local_only.log_dir / "DiagnosticsFunction.log").read_text()
    assert "diagnostic failure" in log and "Traceback" in log
    # the runtime survived: the next request is served
    assert api.get("/_diagnostics/noop").status_code == 200


def test_handler_that_times_out_is_stopped_and_replaced(api, local_only):
    response = api.get("/_diagnostics/sleep", params={"seconds": "5"})  # Timeout: 2 in the template
    assert response.status_code == 500
    log = (local_only.log_dir / "DiagnosticsFunction.log").read_text()
    assert re.search(r"Task timed out after 2\.00 seconds", log)
    assert api.get("/_diagnostics/noop").status_code == 200


def test_event_has_the_api_gateway_v2_shape(api, local_only):
    response = api.get(
        "/_diagnostics/echo?color=red&color=blue&size=M",
        headers={"Cookie": "a=1; b=2", "X-Custom": "yes"},
    )
    assert response.status_code == 200
    event = response.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /_diagnostics/{action}"
    assert event["rawPath"] == "/_diagnostics/echo"
    assert event["rawQueryString"] == "color=red&color=blue&size=M"
    assert event["queryStringParameters"] == {"color": "red,blue", "size": "M"}
    assert event["pathParameters"] == {"action": "echo"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-custom"] == "yes"
    context = event["requestContext"]
    assert context["http"]["method"] == "GET" and context["http"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["apigw-requestid"]


def test_function_sees_only_its_own_environment(api, local_only):
    names = set(api.get("/_diagnostics/env").json()["names"])
    assert {"ITEMS_TABLE", "POWERTOOLS_SERVICE_NAME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_ENDPOINT_URL_DYNAMODB"} <= names
    assert "USER_POOL_CLIENT_ID" not in names  # another function's variable
    assert "PYTEST_CURRENT_TEST" not in names and "VIRTUAL_ENV" not in names  # nothing of the parent leaks


def test_burst_over_the_limit_is_429_with_retry_after_per_client(stack, local_only):
    burst = int(stack.outputs.get("ThrottlingBurstLimit", 0) or 400)
    transport = httpx.HTTPTransport(local_address="127.0.0.9")  # a client of its own
    with httpx.Client(base_url=stack.api_url, transport=transport, timeout=30) as noisy:

        def hit(_: int) -> httpx.Response:
            return noisy.get("/_diagnostics/noop")

        throttled: list[httpx.Response] = []
        with ThreadPoolExecutor(8) as pool:
            for _round in range(6):
                responses = list(pool.map(hit, range(burst)))
                throttled = [r for r in responses if r.status_code == 429]
                if throttled:
                    break
    assert throttled, "no 429 after bursting"
    assert throttled[0].json() == {"message": "Too Many Requests"}
    assert int(throttled[0].headers["retry-after"]) >= 1
    with httpx.Client(base_url=stack.api_url, timeout=30) as polite:
        assert polite.get("/_diagnostics/noop").status_code == 200


def test_a_client_cannot_escape_throttling_by_forging_x_forwarded_for(stack, local_only):
    """From 127.0.0.1, the address every local client has and the one uvicorn trusted forwarded headers
    from: each request claiming another address must still draw from the one bucket of its real peer."""
    burst = int(stack.outputs.get("ThrottlingBurstLimit", 0) or 400)
    rate = int(stack.outputs.get("ThrottlingRateLimit", 0) or 200)
    transport = httpx.HTTPTransport(local_address="127.0.0.1")
    with httpx.Client(base_url=stack.api_url, transport=transport, timeout=30) as forger:

        def hit(n: int) -> httpx.Response:  # every request claims to come from another address
            return forger.get("/_diagnostics/noop", headers={"X-Forwarded-For": f"10.0.{n // 250}.{n % 250}"})

        throttled: list[httpx.Response] = []
        with ThreadPoolExecutor(8) as pool:
            for _round in range(6):
                throttled = [r for r in pool.map(hit, range(burst)) if r.status_code == 429]
                if throttled:
                    break
    time.sleep(burst / rate + 0.5)  # the tests that follow share this address: let its bucket refill
    assert throttled, "a rotating X-Forwarded-For escaped throttling"


def test_lambda_invoke_api_speaks_boto3(local_only):
    import boto3

    client = boto3.client(
        "lambda", endpoint_url=local_only.lambda_url, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )
    event = {"version": "2.0", "routeKey": "GET /_diagnostics/{action}", "rawPath": "/_diagnostics/noop",
             "rawQueryString": "", "headers": {}, "pathParameters": {"action": "noop"},
             "requestContext": {"http": {"method": "GET", "path": "/_diagnostics/noop", "sourceIp": "127.0.0.1"},
                                "requestId": "test", "routeKey": "GET /_diagnostics/{action}", "stage": "$default"},
             "isBase64Encoded": False}
    result = client.invoke(FunctionName="DiagnosticsFunction", Payload=json.dumps(event))
    assert result["StatusCode"] == 200 and "FunctionError" not in result
    assert json.loads(json.loads(result["Payload"].read())["body"]) == {"ok": True}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")
    queued = client.invoke(FunctionName="DiagnosticsFunction", Payload=json.dumps(event), InvocationType="Event")
    assert queued["StatusCode"] == 202
