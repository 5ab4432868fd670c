"""The HTTP API gateway over real HTTP: routing, the 2.0 event, response mapping, limits, throttling."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.apigateway.gateway import create_gateway_app
from infra.apigateway.models import HttpApiSpec, Route, Throttle
from infra.awslambda.workers import FunctionRuntime

FUNCTION = "GatewayFunction"


@pytest.fixture(scope="module")
def runtime(loop_thread, make_spec, endpoints) -> Iterator[FunctionRuntime]:
    specs = {FUNCTION: make_spec("gateway", name=FUNCTION)}
    runtime = loop_thread.call(lambda: FunctionRuntime(specs, endpoints))
    yield runtime
    loop_thread.run(runtime.close())


def _serve(loop_thread: Any, runtime: FunctionRuntime, api: HttpApiSpec) -> str:
    async def health() -> dict[str, Any]:
        return {"status": "ok", "functions": runtime.stats()}

    async def action(query: Any, body: bytes) -> dict[str, Any]:
        if body == b"bad":
            raise ValueError("a bad body")
        return {"query": dict(query), "body": body.decode()}

    app = create_gateway_app(
        api, runtime, runtime.endpoints, local_routes={"/health": lambda query: health()},
        local_actions={"POST /_local/action": action},
    )  # fmt: skip
    url: str = loop_thread.serve(app)
    return url


@pytest.fixture(scope="module")
def api(loop_thread, runtime) -> Iterator[httpx.Client]:
    spec = HttpApiSpec(
        logical_id="HttpApi",
        api_id="abc123",
        stage="$default",
        routes=[
            Route("GET", "/items/{itemId}", FUNCTION),
            Route("GET", "/items/special", FUNCTION),
            Route("POST", "/echo", FUNCTION),
            Route("GET", "/broken-route", "NoSuchFunction"),
            Route("ANY", "/{proxy+}", FUNCTION),
        ],
        cors_allow_origins=("*",),
    )
    with httpx.Client(base_url=_serve(loop_thread, runtime, spec), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def strict_url(loop_thread, runtime) -> str:
    spec = HttpApiSpec(
        logical_id="HttpApi",
        api_id="strict",
        stage="$default",
        routes=[Route("GET", "/only", FUNCTION)],
        throttle=Throttle(rate_per_second=1, burst=2),
    )
    return _serve(loop_thread, runtime, spec)


def client_from(base_url: str, address: str) -> httpx.Client:
    """A client with its own source address, so that it has its own token bucket."""
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=address), timeout=30)


def test_event_has_the_payload_format_2_0_shape(api):
    response = api.get(
        "/items/a%20b%2Fc?color=red&color=blue&size=&q=a+b",
        headers=[("Cookie", "a=1; b=2"), ("X-Multi", "1"), ("X-Multi", "2"), ("User-Agent", "tester/1.0")],
    )
    assert response.status_code == 200
    event = response.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{itemId}"
    assert event["rawPath"] == "/items/a%20b%2Fc"
    assert event["rawQueryString"] == "color=red&color=blue&size=&q=a+b"
    assert event["queryStringParameters"] == {"color": "red,blue", "size": "", "q": "a b"}
    assert event["pathParameters"] == {"itemId": "a b/c"}
    assert event["cookies"] == ["a=1", "b=2"]
    headers = event["headers"]
    assert "cookie" not in headers
    assert headers["x-multi"] == "1,2"
    assert headers["user-agent"] == "tester/1.0"
    assert headers["x-forwarded-for"] == "127.0.0.1" and headers["x-forwarded-proto"] == "http"
    assert event["isBase64Encoded"] is False and "body" not in event
    assert event["stageVariables"] is None
    context = event["requestContext"]
    host = api.base_url.netloc.decode()
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "abc123"
    assert context["domainName"] == host and context["domainPrefix"] == host.split(".")[0]
    assert context["http"] == {
        "method": "GET",
        "path": "/items/a%20b%2Fc",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tester/1.0",
    }
    assert context["requestId"] == response.headers["apigw-requestid"]
    assert context["routeKey"] == "GET /items/{itemId}"
    assert context["stage"] == "$default"
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["time"])
    assert abs(context["timeEpoch"] - time.time() * 1000) < 60_000
    assert "authorizer" not in context


def test_keys_aws_omits_when_empty(api):
    event = api.get("/items/special").json()
    for key in ("cookies", "queryStringParameters", "pathParameters", "body"):
        assert key not in event
    assert event["rawQueryString"] == ""


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("text/plain; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("application/xml", True),
        ("application/octet-stream", False),
        ("image/png", False),
        (None, False),
    ],
)
def test_body_is_base64_unless_text(api, content_type, text):
    body = b'{"name": "lamp", "price": 999}'
    headers = {"content-type": content_type} if content_type else {}
    event = api.post("/echo", content=body, headers=headers).json()
    assert event["isBase64Encoded"] is (not text)
    assert (event["body"].encode() if text else base64.b64decode(event["body"])) == body


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/items/special", "GET /items/special", None),
        ("GET", "/items/42", "GET /items/{itemId}", {"itemId": "42"}),
        ("DELETE", "/items/42", "ANY /{proxy+}", {"proxy": "items/42"}),
        ("PATCH", "/a/b/c%20d", "ANY /{proxy+}", {"proxy": "a/b/c d"}),
    ],
)
def test_route_precedence(api, method, path, route_key, params):
    event = api.request(method, path).json()
    assert event["routeKey"] == route_key
    assert event.get("pathParameters") == params


def test_no_route_is_404(api, strict_url):
    assert api.get("/").status_code == 404  # {proxy+} needs at least one segment
    with client_from(strict_url, "127.0.0.3") as client:
        response = client.get("/nothing/here")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert response.headers["apigw-requestid"]


def test_a_value_without_status_code_becomes_a_json_200(api):
    plain = api.get("/x/plain")
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/json"
    assert plain.json() == "hello"
    assert api.get("/x/dict").json() == {"items": [1, 2]}


def test_status_headers_cookies_and_binary_are_mapped(api):
    response = api.get("/x/cookies")
    assert response.status_code == 201
    assert response.text == "made"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["x-count"] == "3"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    binary = api.get("/x/binary")
    assert binary.content == b"\x00\x01binary"
    assert binary.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("path", ["/x/raise", "/x/malformed", "/broken-route"])
def test_function_failures_are_500_with_a_request_id(api, path):
    response = api.get(path)
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", response.headers["apigw-requestid"])


def test_body_over_10_mb_is_413(api):
    response = api.post("/echo", content=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    assert api.post("/echo", content=b"x" * (1024 * 1024)).status_code == 200


def test_cors_preflight_and_headers(api):
    preflight = api.options(
        "/items/42",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "PATCH"
    assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"
    response = api.get("/items/42", headers={"Origin": "https://shop.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_a_local_action_gets_the_query_and_body_before_any_route_could_match(api):
    response = api.post("/_local/action?x=1", content=b"spec=1")  # ANY /{proxy+} would match it otherwise
    assert response.status_code == 200
    assert response.json() == {"query": {"x": "1"}, "body": "spec=1"}
    refused = api.post("/_local/action", content=b"bad")
    assert (refused.status_code, refused.json()) == (400, {"message": "a bad body"})
    assert api.get("/_local/action").json()["routeKey"] == "ANY /{proxy+}"  # only its method is the action's


def test_health_is_answered_by_the_gateway(api):
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and FUNCTION in body["functions"]
    assert response.headers["apigw-requestid"]


def test_one_log_line_per_request(api, caplog):
    caplog.set_level(logging.INFO, logger="infra.apigateway")
    response = api.get("/items/special")
    request_id = response.headers["apigw-requestid"]
    deadline = time.monotonic() + 30
    while not any(request_id in record.getMessage() for record in caplog.records):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    [line] = [r.getMessage() for r in caplog.records if r.name == "infra.apigateway" and request_id in r.getMessage()]
    assert re.fullmatch(rf"GET /items/special 200 [\d.]+ms {re.escape(request_id)} {FUNCTION}", line)


def test_throttling_per_client_with_retry_after(strict_url, runtime, loop_thread):
    with client_from(strict_url, "127.0.0.2") as noisy, client_from(strict_url, "127.0.0.4") as quiet:
        assert [noisy.get("/only").status_code for _ in range(2)] == [200, 200]
        invocations = loop_thread.call(lambda: runtime.stats()[FUNCTION]["invocations"])
        throttled = noisy.get("/only")
        assert throttled.status_code == 429
        assert throttled.json() == {"message": "Too Many Requests"}
        assert int(throttled.headers["retry-after"]) >= 1
        assert throttled.headers["apigw-requestid"]
        assert loop_thread.call(lambda: runtime.stats()[FUNCTION]["invocations"]) == invocations  # not invoked
        assert [noisy.get("/health").status_code for _ in range(3)] == [200, 200, 200]  # never throttled
        assert quiet.get("/only").status_code == 200  # another client has its own bucket


def test_event_is_json_the_function_can_parse(api):
    event = api.post("/echo", json={"emoji": "\u2603", "nested": {"a": [1, 2]}}).json()
    assert json.loads(event["body"]) == {"emoji": "\u2603", "nested": {"a": [1, 2]}}
