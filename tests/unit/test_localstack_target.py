"""scripts/localstack_target.py, the parts that need no emulator: the routes it creates when a target ignores
the HttpApi's OpenAPI body (against moto's apigatewayv2), its deterministic zips, and the known-gaps list."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import boto3
from moto import mock_aws

from scripts.localstack_target import ROOT, _translated_api_body, _zip_folder, create_missing_routes
from tests.support.known_gaps import KNOWN_GAPS, known_gap


def test_routes_are_created_from_sams_body_with_the_jwt_authorizer_where_the_template_asks_for_it():
    body = _translated_api_body({})
    operations = [o for path in body["paths"].values() for o in path.values() if isinstance(o, dict)]
    # ${Fn.Arn}, or ${FnAliaslive} for the functions with AutoPublishAlias
    functions = {re.search(r"\$\{(\w+?)(?:\.Arn|Alias\w+)\}", str(o)).group(1) for o in operations}  # type: ignore[union-attr]
    with mock_aws():
        client = boto3.client("apigatewayv2", region_name="us-east-1")
        api_id = client.create_api(Name="shop", ProtocolType="HTTP")["ApiId"]
        created = create_missing_routes(
            client, api_id, body, physical={name: f"shop-{name}" for name in functions}, region="us-east-1",
            account="000000000000", pool_id="us-east-1_pool", client_id="client",
        )  # fmt: skip
        routes = {route["RouteKey"]: route for route in client.get_routes(ApiId=api_id)["Items"]}
        integrations = {i["IntegrationId"]: i for i in client.get_integrations(ApiId=api_id)["Items"]}
        authorizer = client.get_authorizer(ApiId=api_id, AuthorizerId=routes["POST /items"]["AuthorizerId"])
        again = create_missing_routes(
            client, api_id, body, physical={}, region="us-east-1", account="0", pool_id="p", client_id="c"
        )  # fmt: skip

    assert created == len(routes) == len(operations)
    assert again == 0  # an API that has routes is left alone
    assert authorizer["JwtConfiguration"] == {
        "Issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool", "Audience": ["client"]}  # fmt: skip
    assert routes["GET /items"].get("AuthorizationType", "NONE") == "NONE"  # public in the template
    assert routes["POST /items"]["AuthorizationType"] == "JWT"
    assert authorizer["AuthorizerType"] == "JWT"
    target = integrations[routes["POST /items"]["Target"].removeprefix("integrations/")]
    # the route invokes the function's alias, as SAM's integration does on AWS
    assert target["IntegrationUri"] == "arn:aws:lambda:us-east-1:000000000000:function:shop-CatalogFunction:live"
    assert target["PayloadFormatVersion"] == "2.0"
    assert len(integrations) == len(functions)  # one integration per function, shared by its routes


def test_the_same_files_make_the_same_zip(tmp_path):
    first = _zip_folder(ROOT / "functions" / "catalog", tmp_path / "a.zip")
    second = _zip_folder(ROOT / "functions" / "catalog", tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()  # so the S3 key (its hash) changes only with the code
    assert "app.py" in zipfile.ZipFile(first).namelist()


def test_every_known_gap_names_a_test_that_exists():
    for target, gaps in KNOWN_GAPS.items():
        for pattern, reason in gaps:
            path, _, name = pattern.partition("::")
            assert (ROOT / path).is_file(), (target, pattern)
            function = re.split(r"[\[*]", name)[0]
            assert not function or f"def {function}" in (ROOT / path).read_text(), (target, pattern)
            assert reason
    assert known_gap("ministack", "tests/integration/catalog/test_items.py::"
                                  "test_malformed_requests_are_4xx_and_write_nothing[one-megabyte]")  # fmt: skip
    assert not known_gap("ministack", "tests/integration/catalog/test_items.py::"
                                      "test_malformed_requests_are_4xx_and_write_nothing[not-json]")  # fmt: skip
    assert not known_gap("", "tests/integration/test_fuzz.py::test_every_operation_answers_as_documented[positive]")
    assert Path(__file__).name not in str(KNOWN_GAPS)
