"""The REST API's pure parts: reading SAM's translation of a REST API into the gateway's records, evaluating
a Lambda authorizer's policy, mapping a 1.0 response, and pointing the outputs' execute-api URLs home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.apigateway.models import REST_API_NOT_SERVED, HttpApiSpec, RestApiSpec
from infra.apigateway.rest import MalformedResponse, _map_response, policy_effect
from infra.apigateway.rest_spec import NON_PROXY, USAGE_PLANS, add_stage, rest_api_spec
from infra.cloud import local_urls
from infra.cloudformation.intrinsics import Resolver
from infra.cloudformation.provision import LocalStack
from infra.cloudformation.template import translated
from infra.core.aws import Endpoints

ROOT = Path(__file__).resolve().parents[4]
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/Prod/GET/orders/1"


@pytest.fixture(scope="module")
def sam_properties() -> dict[str, Any]:
    """The fixture's ServerlessRestApi as SAM translates it, its intrinsics resolved as provisioning would."""
    _, result = translated(ROOT / "tests/fixtures/templates/rest_api.yaml", {}, None)
    pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_pool"
    resolver = Resolver(
        parameters={"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::StackName": "s"},
        conditions={}, mappings={}, ref=lambda name: name, region="us-east-1",
        get_att=lambda name, attribute: pool if name == "UserPool" else f"arn:aws:lambda:us-east-1:1:function:{name}",
    )  # fmt: skip
    properties: dict[str, Any] = resolver.resolve(result["Resources"]["ServerlessRestApi"]["Properties"])
    return properties


def test_sams_translation_becomes_methods_with_their_authorizers(sam_properties):
    spec = rest_api_spec("ServerlessRestApi", "abc123", sam_properties)
    methods = {(method.method, method.path): method for method in spec.methods}
    assert methods[("ANY", "/files/{proxy+}")].authorizer is None
    preflight = methods[("OPTIONS", "/hello")].mock
    assert preflight is not None and dict(preflight.headers)["Access-Control-Max-Age"] == "600"
    cognito = methods[("GET", "/cart")].authorizer
    assert cognito is not None and cognito.issuers == ("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool",)
    token = methods[("GET", "/orders/{orderId}")].authorizer
    assert token is not None and (token.type, token.ttl_seconds) == ("token", 300)
    assert (token.function_name, methods[("GET", "/orders/{orderId}")].function_name) == (
        "TokenAuthorizerFunction", "EchoFunction")  # fmt: skip
    assert token.identity_sources == (("header", "Authorization"),)
    request = methods[("GET", "/tenant")].authorizer
    assert request is not None and request.identity_sources == (("header", "X-Tenant-Token"), ("querystring", "tenant"))
    assert spec.not_served == [USAGE_PLANS]  # ApiKeyRequired on /keyed


def test_an_integration_it_cannot_serve_is_named_not_dropped():
    body = {"paths": {"/legacy": {"get": {"x-amazon-apigateway-integration": {"type": "http", "uri": "https://x"}}}}}
    spec = rest_api_spec("Api", "abc123", {"Body": body})
    assert spec.methods[0].not_served and spec.not_served == [NON_PROXY]
    assert all(feature in dict(REST_API_NOT_SERVED) for feature in spec.not_served)


def test_a_stage_brings_its_variables_and_stage_wide_throttle():
    spec = RestApiSpec("Api", "abc123", "api")
    settings = [{"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 5, "ThrottlingBurstLimit": 10}]
    assert add_stage(spec, {"StageName": "dev", "Variables": {"color": "red"}, "MethodSettings": settings}) == []
    assert spec.stages == {"dev": {"color": "red"}}
    assert spec.throttle is not None and (spec.throttle.rate_per_second, spec.throttle.burst) == (5.0, 10)


def test_an_explicit_deny_wins_over_an_allow():
    allow = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:*:*:abc123/*"}
    deny = {"Action": ["execute-api:*"], "Effect": "Deny", "Resource": [ARN]}
    assert policy_effect((allow,), ARN) == "Allow"
    assert policy_effect((allow, deny), ARN) == "Deny"
    assert policy_effect((deny, allow), ARN) == "Deny"
    assert policy_effect(({**allow, "Resource": ARN.replace("GET", "POST")},), ARN) is None
    assert policy_effect(({**allow, "Action": "s3:GetObject"},), ARN) is None


def test_the_1_0_response_merges_headers_and_refuses_what_api_gateway_refuses():
    status, headers, body = _map_response(json.dumps({
        "statusCode": "202", "headers": {"X-One": "1"}, "multiValueHeaders": {"X-Many": ["a", "b"]},
        "body": "aGk=", "isBase64Encoded": True,
    }).encode())  # fmt: skip
    assert (status, body) == (202, b"hi")
    assert (b"X-Many", b"a") in headers and (b"X-Many", b"b") in headers and (b"X-One", b"1") in headers
    for malformed in ({"body": "x"}, {"statusCode": 200, "body": 5}, {"statusCode": 99}, "plain"):
        with pytest.raises(MalformedResponse):
            _map_response(json.dumps(malformed).encode())


def test_output_urls_of_both_kinds_of_api_point_at_the_local_gateway():
    stack = LocalStack("s", {})
    stack.http_apis.append(HttpApiSpec("HttpApi", "http111", "$default"))
    stack.rest_apis.append(RestApiSpec("ServerlessRestApi", "rest222", "api"))
    stack.outputs = {
        "Http": "https://http111.execute-api.us-east-1.amazonaws.com",
        "Rest": "https://rest222.execute-api.eu-west-1.amazonaws.com/Prod/hello/",
        "Other": "https://elsewhere.execute-api.us-east-1.amazonaws.com/Prod/",
        "Count": 3,
    }
    endpoints = Endpoints("http://d", "http://m", "http://l", "http://127.0.0.1:3000")
    rewritten = local_urls(stack, endpoints, {"ServerlessRestApi": "http://127.0.0.1:3002"})
    assert rewritten == {
        "Http": "http://127.0.0.1:3000",
        "Rest": "http://127.0.0.1:3002/Prod/hello/",
        "Other": "https://elsewhere.execute-api.us-east-1.amazonaws.com/Prod/",  # not an API of this stack
        "Count": 3,
    }
