"""Every operation that takes a request body (enumerated from the served OpenAPI document, so a new route is
covered without editing this file) answers a body it cannot read with a 4xx the operation documents, in the
error shape {"error": {"code", "message", "details"}}: bytes that are not UTF-8, a content type that is not
JSON, a body over the 64 KiB limit, and JSON nested deeper than the parser recurses."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from shop.http import MAX_BODY_BYTES
from tests.support.users import User, register

# Inside the size limit and far beyond Python's recursion limit: the parser gives up, the function must not crash.
DEPTH = 30_000

UNREADABLE: dict[str, tuple[dict[str, str], bytes, str]] = {
    "not-utf8": ({"Content-Type": "application/json"}, b'{"name": "caf\xe9 \xff"}', "MALFORMED_JSON"),
    "not-json-content-type": ({"Content-Type": "text/plain"}, b'{"name": "lamp"}', "UNSUPPORTED_CONTENT_TYPE"),
    "over-the-size-limit": (
        {"Content-Type": "application/json"},
        b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}',
        "PAYLOAD_TOO_LARGE",
    ),
    "nested-too-deep": ({"Content-Type": "application/json"}, b"[" * DEPTH + b"]" * DEPTH, "MALFORMED_JSON"),
}
SELLER_OPERATIONS = ("POST /items", "PATCH /items/", "POST /items/", "POST /imports")


@pytest.fixture(scope="module")
def served(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="module")
def callers(api: httpx.Client) -> dict[str, User]:
    return {role: register(api, role) for role in ("buyer", "seller")}


def operations_with_a_body(document: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    )


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_every_operation_refuses_an_unreadable_body_as_documented(
    api: httpx.Client, served: dict[str, Any], callers: dict[str, User], kind: str
) -> None:
    headers, content, code = UNREADABLE[kind]
    operations = operations_with_a_body(served)
    assert len(operations) >= 10, operations  # the document lists the body-taking routes; none went missing
    error_schema = {**served["components"]["schemas"]["ErrorBody"], "components": served["components"]}
    wrong: list[str] = []
    for method, path in operations:
        label = f"{method} {path}"
        caller = callers["seller" if label.startswith(SELLER_OPERATIONS) else "buyer"]
        url = path.replace("{", "").replace("}", "")  # any path parameter: the body is refused before it is used
        response = api.request(method, url, content=content, headers={**headers, **caller.auth})
        documented = served["paths"][path][method.lower()]["responses"]
        if not 400 <= response.status_code < 500 or str(response.status_code) not in documented:
            wrong.append(f"{label}: {response.status_code} (documented: {sorted(documented)}) {response.text[:200]}")
            continue
        body = response.json()
        problems = [error.message for error in jsonschema.Draft202012Validator(error_schema).iter_errors(body)]
        if problems or body["error"]["code"] != code:
            wrong.append(f"{label}: {response.status_code} {body} {problems}")
    assert not wrong, "\n".join(wrong)
