"""A REST API (API Gateway v1) as a SAM application declares it, served by the local cloud: the implicit
ServerlessRestApi of tests/fixtures/templates/rest_api.yaml (Events of Type Api, Globals with CORS and three
authorizers), called over HTTP on its own port with the stage in the path, as the template's output URL says."""

from __future__ import annotations

import argparse
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.launcher import ROOT, RunningCloud
from infra.sample_events import add_generate_event_parser, generate
from tests.conftest import local_cloud

TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "rest_api.yaml"


@pytest.fixture(scope="module")
def rest_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    cloud = local_cloud(tmp_path_factory, "rest-api", template=TEMPLATE)
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def rest(rest_cloud: RunningCloud) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rest_cloud.state["restApis"]["ServerlessRestApi"], timeout=30) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_the_output_url_is_the_local_stage_url_and_answers(rest_cloud):
    base = rest_cloud.state["restApis"]["ServerlessRestApi"]
    url = rest_cloud.state["outputs"]["HelloUrl"]
    assert url == f"{base}/Prod/hello/"  # was https://<api id>.execute-api.us-east-1.amazonaws.com/Prod/hello/
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["requestContext"]["path"] == "/Prod/hello/".rstrip("/")


def test_the_function_gets_a_payload_format_1_0_event(rest):
    response = rest.post(
        "/Prod/items/itm-1?color=red&color=blue&size=M",
        headers=[("X-Custom-Case", "Yes"), ("X-Repeated", "one"), ("X-Repeated", "two"),
                 ("Content-Type", "application/json")],
        content=b'{"name": "mouse"}',
    )  # fmt: skip
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["resource"] == "/items/{itemId}"
    assert event["path"] == "/items/itm-1"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Custom-Case"] == "Yes"  # the case the client sent
    assert event["headers"]["X-Repeated"] == "two"
    assert event["multiValueHeaders"]["X-Repeated"] == ["one", "two"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["queryStringParameters"] == {"color": "blue", "size": "M"}
    assert event["multiValueQueryStringParameters"] == {"color": ["red", "blue"], "size": ["M"]}
    assert event["pathParameters"] == {"itemId": "itm-1"}
    assert event["stageVariables"] is None
    assert event["body"] == '{"name": "mouse"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "Prod"
    assert context["resourcePath"] == "/items/{itemId}"
    assert context["path"] == "/Prod/items/itm-1"
    assert context["httpMethod"] == "POST"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert "authorizer" not in context
    # the 1.0 response: headers and multiValueHeaders both reach the client
    assert response.headers["X-Single"] == "one"
    assert response.headers.get_list("X-Multi") == ["a", "b"]


def test_greedy_paths_any_method_and_sams_second_stage(rest):
    # SAM's deployment also makes a stage named "Stage", which AWS serves too.
    response = rest.delete("/Stage/files/a/b%20c")
    assert response.status_code == 200, response.text
    event = response.json()
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b c"}
    assert event["requestContext"]["stage"] == "Stage"


def test_what_api_gateway_v1_answers_without_a_route(rest):
    for response in (rest.get("/Prod/no/such/route"), rest.get("/Prod/items/itm-1")):  # no such path; no GET
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    unknown_stage = rest.get("/Dev/hello")
    assert unknown_stage.status_code == 403
    assert unknown_stage.json() == {"message": "Forbidden"}


def test_a_failing_or_malformed_function_is_a_502(rest):
    for path in ("/Prod/files/raise", "/Prod/files/malformed"):
        response = rest.get(path)
        assert response.status_code == 502, path
        assert response.json() == {"message": "Internal server error"}


def test_cors_preflight_is_sams_mock_integration(rest):
    response = rest.options(
        "/Prod/items/itm-1", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization,X-Tenant-Token"
    assert response.headers["Access-Control-Max-Age"] == "600"


# ------------------------------------------------------------------------------------------------ authorizers


def _id_token(cloud: RunningCloud) -> str:
    cognito = cloud.client("cognito-idp")
    outputs = cloud.state["outputs"]
    email, password = f"{unique('rest')}@example.com", "Rest-Api-Password-1"
    cognito.sign_up(ClientId=outputs["UserPoolClientId"], Username=email, Password=password,
                    UserAttributes=[{"Name": "email", "Value": email}])  # fmt: skip
    cognito.admin_confirm_sign_up(UserPoolId=outputs["UserPoolId"], Username=email)
    tokens = cognito.initiate_auth(
        ClientId=outputs["UserPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]  # fmt: skip
    return str(tokens["IdToken"])


def test_the_cognito_authorizer_passes_the_id_tokens_claims(rest, rest_cloud):
    assert rest.get("/Prod/cart").status_code == 401
    refused = rest.get("/Prod/cart", headers={"Authorization": "not-a-jwt"})
    assert refused.status_code == 401
    assert refused.json() == {"message": "Unauthorized"}
    token = _id_token(rest_cloud)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert rest.get("/Prod/cart", headers={"Authorization": tampered}).status_code == 401

    response = rest.get("/Prod/cart", headers={"Authorization": token})
    assert response.status_code == 200, response.text
    claims = response.json()["requestContext"]["authorizer"]["claims"]
    assert claims["token_use"] == "id"
    assert claims["iss"].endswith(rest_cloud.state["outputs"]["UserPoolId"])
    assert all(isinstance(value, str) for value in claims.values())  # v1 hands every claim over as a string
    assert re.fullmatch(r"\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}", claims["exp"])


def test_the_token_authorizer_evaluates_the_policy_and_passes_its_context(rest):
    token = unique("allow")
    response = rest.get("/Prod/orders/ord-1", headers={"Authorization": token})
    assert response.status_code == 200, response.text
    authorizer: dict[str, Any] = response.json()["requestContext"]["authorizer"]
    assert authorizer["principalId"] == f"user-{token}"
    # the context's values arrive as strings
    assert {key: authorizer[key] for key in ("tenant", "level", "admin", "type")} == {
        "tenant": "t1", "level": "3", "admin": "true", "type": "TOKEN"}  # fmt: skip

    denied = rest.get("/Prod/orders/ord-1", headers={"Authorization": unique("deny")})
    assert denied.status_code == 403
    assert denied.json() == {"Message": "User is not authorized to access this resource with an explicit deny"}
    not_allowed = rest.get("/Prod/orders/ord-1", headers={"Authorization": unique("post")})  # allows POSTs only
    assert not_allowed.status_code == 403
    assert not_allowed.json() == {"Message": "User is not authorized to access this resource"}
    assert rest.get("/Prod/orders/ord-1").status_code == 401  # no token: the authorizer is not even asked
    assert rest.get("/Prod/orders/ord-1", headers={"Authorization": "let-me-in"}).status_code == 401
    broken = rest.get("/Prod/orders/ord-1", headers={"Authorization": unique("malformed")})
    assert broken.status_code == 500
    assert broken.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


def test_a_cached_policy_decides_for_other_methods_as_on_aws(rest):
    token = unique("allow")  # allows exactly GET /orders/ord-2, cached for 300 s under the token
    assert rest.get("/Prod/orders/ord-2", headers={"Authorization": token}).status_code == 200
    # The cached policy, not a new call, decides DELETE: it does not name that method, so 403.
    assert rest.delete("/Prod/orders/ord-2", headers={"Authorization": token}).status_code == 403
    # A new token is a new call to the authorizer, which allows what it is asked about.
    assert rest.delete("/Prod/orders/ord-2", headers={"Authorization": unique("allow")}).status_code == 200


def test_the_request_authorizer_gets_the_request_and_its_identity_sources(rest):
    allowed = rest.get("/Prod/tenant", params={"tenant": "acme"}, headers={"X-Tenant-Token": "secret-acme"})
    assert allowed.status_code == 200, allowed.text
    authorizer = allowed.json()["requestContext"]["authorizer"]
    assert (authorizer["principalId"], authorizer["tenant"]) == ("tenant-acme", "acme")
    assert (authorizer["type"], authorizer["resource"]) == ("REQUEST", "/tenant")
    wrong = rest.get("/Prod/tenant", params={"tenant": "acme"}, headers={"X-Tenant-Token": "secret-other"})
    assert wrong.status_code == 403
    # an identity source missing: 401 before the authorizer runs
    assert rest.get("/Prod/tenant", headers={"X-Tenant-Token": "secret-acme"}).status_code == 401


def test_start_up_names_what_the_rest_api_uses_and_is_not_served(rest, rest_cloud):
    console = (rest_cloud.workdir / "cloud.out").read_text(errors="replace")
    assert re.search(r"REST API ServerlessRestApi uses usage plans and API keys: not served locally", console)
    # and the method that requires a key answers without one
    assert rest.get("/Prod/keyed").status_code == 200
    assert json.loads(rest.get("/Prod/keyed").text)["resource"] == "/keyed"


def test_generate_event_aws_proxy_has_the_shape_the_gateway_serves(rest):
    parser = argparse.ArgumentParser()
    add_generate_event_parser(parser.add_subparsers(dest="command"))
    generated = generate(parser.parse_args([
        "generate-event", "--template", str(TEMPLATE), "apigateway", "aws-proxy", "--method", "POST",
        "--path", "/items/itm-3?size=M", "--body", "{}", "--stage", "Prod",
    ]))  # fmt: skip
    served = rest.post("/Prod/items/itm-3?size=M", json={}).json()
    assert set(generated) == set(served)
    assert set(generated["requestContext"]) == set(served["requestContext"]) - {"authorizer"}
    assert set(generated["requestContext"]["identity"]) == set(served["requestContext"]["identity"])
    for key in ("resource", "path", "httpMethod", "pathParameters", "queryStringParameters", "isBase64Encoded"):
        assert generated[key] == served[key], key
    assert generated["requestContext"]["path"] == served["requestContext"]["path"]
