"""What a request model's JSON Schema allows, its validation accepts, and what validation refuses, the schema
says: the defects fuzzing over the OpenAPI document found, each pinned here (tests/integration/test_fuzz.py)."""

from __future__ import annotations

import json
import typing
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from shop.accounts.schemas import Credentials, Registration
from shop.catalog.schemas import ItemChanges
from shop.checkout.schemas import PaymentInfo
from shop.http import _parse_json_object
from shop.inventory.schemas import RestockRequest
from shop.orders.lifecycle import STATUSES
from shop.orders.schemas import OrderStatus
from tests.unit.shop.apigw_events import ROOT

CARD = "4242 4242 4242 4242"
TOKEN = "tok_local_4242_0123456789abcdef"
SIGN_UP = {"password": "Correct-Horse-9", "name": "Ann", "role": "buyer"}


def agree(model: type[BaseModel], body: dict[str, Any]) -> tuple[bool, bool]:
    """(the schema allows body, validation accepts body)."""
    schema = model.model_json_schema(by_alias=True)
    allowed = jsonschema.Draft202012Validator(schema).is_valid(body)
    try:
        model.model_validate(body)
    except ValidationError:
        return allowed, False
    return allowed, True


def test_a_whole_number_written_with_a_fraction_is_an_integer() -> None:
    # JSON Schema counts 2.0 an integer; strict validation refused it as int_type, on every integer field.
    body = _parse_json_object('{"quantity": 2.0, "big": 1e3, "price": 9.99}')
    assert body == {"quantity": 2, "big": 1000, "price": 9.99}
    assert type(body["quantity"]) is int and type(body["big"]) is int
    assert RestockRequest.model_validate({"quantity": body["quantity"]}).quantity == 2


@pytest.mark.parametrize(
    ("model", "body", "accepted"),
    [
        (ItemChanges, {"version": 1}, False),  # nothing to change: was allowed by the schema, refused by validation
        (ItemChanges, {"version": 1, "name": "Reading Lamp"}, True),
        (ItemChanges, {"version": 1, "price": None}, False),  # only brand and category can be cleared
        (ItemChanges, {"version": 1, "brand": None}, True),
        # Text that normalises to nothing, or holds a bidi control, was allowed by minLength alone.
        (ItemChanges, {"version": 1, "name": " "}, False),
        (ItemChanges, {"version": 1, "name": "\u200b\u00ad"}, False),
        (ItemChanges, {"version": 1, "name": "gpj\u202eexe"}, False),
        (ItemChanges, {"version": 1, "name": " Lamp\u200b "}, True),
        (ItemChanges, {"version": 1, "description": "line\u202eone"}, True),  # removed from descriptions, not refused
        # Attribute names and values: the same rules, and numbers within what DynamoDB and JavaScript keep exactly.
        (ItemChanges, {"version": 1, "attributes": {" ": "red"}}, False),
        (ItemChanges, {"version": 1, "attributes": {"colour": "\x9a"}}, False),
        (ItemChanges, {"version": 1, "attributes": {"weight": 2**60}}, False),
        (ItemChanges, {"version": 1, "attributes": {"weight": 1.5, "colour": "red", "wireless": True}}, True),
        (PaymentInfo, {"paymentType": "CARD"}, False),  # neither card form
        (PaymentInfo, {"paymentType": "CARD", "cardNo": CARD, "paymentToken": TOKEN}, False),  # both
        (PaymentInfo, {"paymentType": "CARD", "cardNo": CARD}, True),
        (PaymentInfo, {"paymentType": "CARD", "cardNo": None, "paymentToken": TOKEN}, True),
        (Registration, {"email": "0@0.0", **SIGN_UP}, False),  # the user pool refused it after validation passed
        (Registration, {"email": ".a@example.com", **SIGN_UP}, False),
        (Registration, {"email": "ann.lee+shop@mail.example.co", **SIGN_UP}, True),
        # Sign-in checks loosely, but a control character the schema allowed was removed and broke the address.
        (Credentials, {"email": "\x0f@0.0", "password": "Correct-Horse-9"}, False),
        (Credentials, {"email": "ann@example.com", "password": "Correct-Horse-9"}, True),
    ],
)  # fmt: skip
def test_schema_and_validation_agree(model: type[BaseModel], body: dict[str, Any], accepted: bool) -> None:
    assert agree(model, body) == (accepted, accepted)


def test_the_idempotency_key_of_checkout_is_documented_as_required() -> None:
    # The function answers its absence with 400 IDEMPOTENCY_KEY_REQUIRED; the document called it optional.
    (parameter,) = document()["paths"]["/checkout"]["post"]["parameters"]
    assert (parameter["name"], parameter["required"]) == ("idempotency-key", True)


def test_the_order_status_filter_lists_every_status() -> None:
    assert set(typing.get_args(OrderStatus)) == STATUSES


def document() -> dict[str, Any]:
    found: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())
    return found


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document()["paths"].items() for method, op in ops.items()]


def test_no_parameter_is_documented_as_null() -> None:
    # A query string or header cannot carry JSON null: schemathesis sent "null", and validation refused it.
    nullable = [
        f"{method} {path} {parameter['name']}"
        for method, path, operation in operations()
        for parameter in operation.get("parameters", [])
        if {"type": "null"} in parameter["schema"].get("anyOf", [])
    ]
    assert not nullable


def test_answers_given_before_any_function_are_documented_on_every_operation() -> None:
    # The edge answers 413 and 429 in the error shape, API Gateway 401, 413 and 429 in {"message"}; the fuzzing
    # got the gateway's 401 on every bearerAuth route, documented as ErrorBody only.
    either = {"anyOf": [{"$ref": "#/components/schemas/ErrorBody"}, {"$ref": "#/components/schemas/GatewayError"}]}
    for method, path, operation in operations():
        responses = operation["responses"]
        for status in ("413", "429") + (("401",) if operation.get("security") else ()):
            assert responses[status]["content"]["application/json"]["schema"] == either, (method, path, status)
        if "requestBody" in operation:
            assert "400" in responses, f"{method} {path}: an unreadable body is 400, undocumented"


def test_links_name_operations_of_the_document() -> None:
    ids = {operation["operationId"] for _, _, operation in operations()}
    links = [
        link
        for _, _, op in operations()
        for answer in op["responses"].values()
        for link in answer.get("links", {}).values()
    ]
    assert len(links) >= 15
    assert {link["operationId"] for link in links} <= ids
