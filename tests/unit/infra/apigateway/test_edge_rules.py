"""The local edge: which bucket a request draws from, the scope-down of the sensitive routes, the body limit,
and the headers policy, read from the template's own web ACL and policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.apigateway.edge import Edge, EdgeConfigError, EdgeRequest
from infra.cloudformation.intrinsics import Resolver
from infra.cloudformation.provision import resolve_parameters
from infra.cloudformation.template import load_template
from shop.http import MAX_BODY_BYTES, SECURITY_HEADERS

ROOT = Path(__file__).resolve().parents[4]
LIMITS = {"RateLimitWindowSeconds": "60", "SensitiveRateLimit": "10", "ClientRateLimit": "12", "AddressRateLimit": "30"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def template_edge(clock: Clock) -> Edge:
    """The Edge of template.yaml's ApiWebAcl and ApiResponseHeadersPolicy, with LIMITS as parameters."""
    template = load_template(ROOT / "template.yaml")
    parameters = {**resolve_parameters(template, LIMITS), "AWS::StackName": "edge-test", "AWS::Region": "us-east-1"}
    resolver = Resolver(
        parameters=parameters, conditions=template["Conditions"], mappings={},
        ref=lambda name: name, get_att=lambda name, attribute: f"{name}.{attribute}", region="us-east-1",
    )  # fmt: skip
    resources = template["Resources"]
    web_acl = resolver.resolve(resources["ApiWebAcl"]["Properties"])
    policy = resolver.resolve(resources["ApiResponseHeadersPolicy"]["Properties"])
    return Edge(web_acl, policy, clock=clock)


def request(method: str = "GET", path: str = "/items", address: str = "10.0.0.1", **headers: str) -> EdgeRequest:
    return EdgeRequest(method, path, {name.replace("_", "-"): value for name, value in headers.items()}, address)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def edge(clock: Clock) -> Edge:
    return template_edge(clock)


def exhaust(check: Any, limit: int) -> list[Any]:
    return [check() for _ in range(limit + 1)]


def test_two_callers_on_one_address_have_their_own_buckets(edge):
    alice = exhaust(lambda: edge.check_caller(request(), "alice-sub"), 12)
    assert alice[:12] == [None] * 12
    refusal = alice[12]
    assert refusal is not None and refusal.status == 429 and refusal.rule == "PerCaller"
    assert json.loads(refusal.body)["error"]["code"] == "TOO_MANY_REQUESTS"
    assert edge.check_caller(request(), "bob-sub") is None  # same address, another caller


def test_anonymous_callers_are_keyed_on_the_peer_address_only(edge):
    forged = [edge.check_address(request(x_forwarded_for=f"10.9.0.{n}")) for n in range(31)]
    assert forged[:30] == [None] * 30
    assert forged[30] is not None and forged[30].rule == "PerAddress"  # the header changed nothing
    assert edge.check_address(request(address="10.0.0.2")) is None


def test_retry_after_is_when_the_bucket_has_a_token_again(edge, clock):
    for _ in range(12):
        edge.check_caller(request(), "alice-sub")
    refusal = edge.check_caller(request(), "alice-sub")
    assert refusal is not None
    assert dict(refusal.headers)[b"retry-after"] == b"5"  # 12 per 60 s: one token every 5 s
    clock.now += 5
    assert edge.check_caller(request(), "alice-sub") is None


@pytest.mark.parametrize(
    ("method", "path", "sensitive"),
    [
        ("POST", "/auth/login", True),
        ("POST", "/auth/register", True),
        ("POST", "/checkout", True),
        ("POST", "/auth/%6Cogin", True),  # the API routes it to /auth/login too
        ("GET", "/auth/login", False),
        ("POST", "/auth/refresh", False),
        ("POST", "/checkouts", False),
    ],
)
def test_the_sensitive_routes_have_a_lower_limit_per_address(edge, method, path, sensitive):
    answers = exhaust(lambda: edge.check_address(request(method, path)), 10)
    if sensitive:
        assert answers[:10] == [None] * 10
        assert answers[10] is not None and answers[10].rule == "SensitiveRoutesPerAddress"
    else:
        assert answers == [None] * 11


def test_body_limit_is_the_functions_limit(edge):
    assert edge.max_body_bytes == MAX_BODY_BYTES
    assert not edge.body_too_large(MAX_BODY_BYTES) and edge.body_too_large(MAX_BODY_BYTES + 1)
    refusal = edge.body_refusal
    assert refusal is not None and refusal.status == 413
    assert json.loads(refusal.body)["error"] == {
        "code": "PAYLOAD_TOO_LARGE",
        "message": f"the request body must not exceed {MAX_BODY_BYTES} bytes",
        "details": {"maxBytes": MAX_BODY_BYTES},
    }


def test_the_policy_adds_the_functions_security_headers(edge):
    headers = [(b"content-type", b"application/json"), (b"x-frame-options", b"SAMEORIGIN")]
    edge.add_response_headers(headers)
    added = {name.decode(): value.decode() for name, value in headers}
    assert added == {"content-type": "application/json", **{k.lower(): v for k, v in SECURITY_HEADERS.items()}}
    own = [(b"cache-control", b"public, max-age=60")]  # not overridden: the origin's own value stays
    edge.add_response_headers(own)
    assert dict(own)[b"cache-control"] == b"public, max-age=60"


def test_what_the_local_edge_cannot_enforce_stops_it():
    geo = {"Name": "Geo", "Priority": 0, "Action": {"Block": {}}, "Statement": {"GeoMatchStatement": {}}}
    with pytest.raises(EdgeConfigError, match="GeoMatchStatement"):
        Edge({"Rules": [geo]}, None)
