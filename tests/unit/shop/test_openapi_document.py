"""The OpenAPI document is generated from the code, committed up to date, served, and agrees with the template."""

from __future__ import annotations

import json
import subprocess
import sys

from infra.cloudformation.template import load_template
from tests.unit.shop.apigw_events import ROOT, http_event, load_handler

# Every HTTP route of the template is documented, except the diagnostics routes (tests and benchmarks only).
UNDOCUMENTED_FUNCTIONS = {"DiagnosticsFunction"}


def document():
    return json.loads((ROOT / "functions" / "docs" / "openapi.json").read_text())


def test_committed_documents_are_up_to_date():
    result = subprocess.run(
        [sys.executable, "scripts/build_openapi.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (ROOT / "docs" / "openapi.json").read_text() == (ROOT / "functions" / "docs" / "openapi.json").read_text()


def test_routes_and_their_protection_match_the_template():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    in_template = {}
    functions = {
        name: resource for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function" and name not in UNDOCUMENTED_FUNCTIONS
    }
    for function in functions.values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            properties = event["Properties"]
            public = properties.get("Auth", {}).get("Authorizer") == "NONE"
            in_template[(properties["Method"].lower(), properties["Path"])] = not public
    in_document = {
        (method, path): operation.get("security") == [{"bearerAuth": []}]
        for path, operations in document()["paths"].items()
        for method, operation in operations.items()
    }
    assert in_document == in_template


def test_document_describes_our_errors_and_the_bearer_scheme():
    doc = document()
    assert doc["info"]["title"] == "Marketplace API"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error = {"$ref": "#/components/schemas/ErrorBody"}
    create = doc["paths"]["/items"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "422"} <= create.keys()
    assert create["422"]["content"]["application/json"]["schema"] == error
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # powertools' own error shape is not ours


def test_docs_function_serves_the_committed_document(lambda_context):
    response = load_handler("docs").lambda_handler(http_event("GET", "/openapi.json"), lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["body"] == (ROOT / "functions" / "docs" / "openapi.json").read_text()
