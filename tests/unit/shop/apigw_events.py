"""API Gateway HTTP API (payload 2.0) events, a Lambda context and the handlers, as Lambda runs them."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[3]

SELLER_CLAIMS = {
    "sub": "3f1c2a9e-0000-4000-8000-000000000001",
    "email": "seller@example.com",
    "cognito:groups": "[sellers]",
    "token_use": "id",
}
BUYER_CLAIMS = {
    "sub": "3f1c2a9e-0000-4000-8000-000000000002",
    "email": "buyer@example.com",
    "cognito:groups": "[buyers]",
    "token_use": "id",
}


def http_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: str = "",
    json_body: Any = None,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
    request_id: str = "req-1",
) -> dict[str, Any]:
    """An event shaped like API Gateway's: lower-case header names, claims under authorizer.jwt, raw body."""
    all_headers = {"host": "api.example.com", "user-agent": "pytest"}
    if json_body is not None:
        body = json.dumps(json_body)
        all_headers["content-type"] = "application/json"
    all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    encoded = isinstance(body, bytes)
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.com",
        "domainPrefix": "api",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "pytest",
        },
        "requestId": request_id,
        "routeKey": f"{method} {route or path}",
        "stage": "$default",
        "time": "26/Nov/2026:00:00:00 +0000",
        "timeEpoch": 1795651200000,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route or path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": request_context,
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = dict(parse_qsl(query))
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if isinstance(body, bytes) else body
    return event


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "lambda-req-1"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "stream"
    remaining_ms: int = 10_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def load_handler(function: str) -> Any:
    """functions/<function>/app.py as a module of its own (every function's module is named app)."""
    name = f"_unit_{function}_app"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / function / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
