"""The one mapping of errors to HTTP, seen through a real handler with API Gateway v2 events."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus

import pytest

from shop import catalog, errors
from shop.http import MAX_BODY_BYTES, SECURITY_HEADERS, with_security_headers
from tests.unit.shop.apigw_events import BUYER_CLAIMS, SELLER_CLAIMS, http_event, load_handler, response_json

ITEM = {"name": "Wireless Mouse", "description": "Ergonomic", "price": 999, "quantity": 100}


@pytest.fixture
def catalog_app():
    return load_handler("catalog")


def post_item(app, context, **event):
    event.setdefault("claims", SELLER_CLAIMS)
    return app.lambda_handler(http_event("POST", "/items", **event), context)


def assert_error(response, status, code):
    assert response["statusCode"] == status, response
    assert response["headers"]["Content-Type"] == "application/json"
    body = response_json(response)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_field_errors_are_422_with_one_entry_per_field(catalog_app, lambda_context):
    body = {**ITEM, "price": 9.99, "quantity": "many", "colour": "red"}
    body["variants"] = [{"variantId": "A", "attributes": {"size": [1]}, "stock": -1}]
    error = assert_error(post_item(catalog_app, lambda_context, json_body=body), 422, "VALIDATION_FAILED")
    fields = error["details"]["fields"]
    assert [entry["field"] for entry in fields] == [
        "price",
        "quantity",
        "variants[0].attributes.size",
        "variants[0].stock",
        "colour",
    ]
    assert all(set(entry) == {"field", "message", "type"} and entry["message"] for entry in fields)
    assert fields[0]["type"] == "int_type"


def test_quantity_mismatch_is_a_field_error_on_quantity(catalog_app, lambda_context):
    body = {**ITEM, "quantity": 5, "variants": [{"variantId": "A", "attributes": {"size": "M"}, "stock": 3}]}
    error = assert_error(post_item(catalog_app, lambda_context, json_body=body), 422, "VALIDATION_FAILED")
    assert error["details"]["fields"] == [
        {
            "field": "quantity",
            "message": "quantity must equal the sum of the variants' stock (3)",
            "type": "quantity_mismatch",
        }
    ]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ('{"name": "Mouse", "price": 9', {"content-type": "application/json"}, 400, "MALFORMED_JSON"),
        ('{"price": NaN}', {"content-type": "application/json"}, 400, "MALFORMED_JSON"),
        ("[" * 50_000, {"content-type": "application/json"}, 400, "MALFORMED_JSON"),
        (json.dumps(ITEM), {}, 400, "UNSUPPORTED_CONTENT_TYPE"),
        (json.dumps(ITEM), {"content-type": "text/plain"}, 400, "UNSUPPORTED_CONTENT_TYPE"),
        (
            "name=Mouse&price=999",
            {"content-type": "application/x-www-form-urlencoded"},
            400,
            "UNSUPPORTED_CONTENT_TYPE",
        ),
        ("[1, 2, 3]", {"content-type": "application/json"}, 422, "VALIDATION_FAILED"),
        ('"a string"', {"content-type": "application/json"}, 422, "VALIDATION_FAILED"),
        (
            json.dumps({**ITEM, "description": "x" * MAX_BODY_BYTES}),
            {"content-type": "application/json"},
            400,
            "PAYLOAD_TOO_LARGE",
        ),
    ],
    ids=["truncated", "nan", "nesting", "no-content-type", "text-plain", "form", "array", "string", "too-large"],
)
def test_unreadable_bodies(catalog_app, lambda_context, body, headers, status, code):
    response = post_item(catalog_app, lambda_context, body=body, headers=headers)
    assert_error(response, status, code)


def test_json_content_type_with_charset_is_accepted(catalog_app, lambda_context, tables):
    body = json.dumps(ITEM)
    response = post_item(
        catalog_app, lambda_context, body=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response["statusCode"] == 201


def test_size_limit_counts_bytes_of_base64_bodies_too(catalog_app, lambda_context):
    big = json.dumps({**ITEM, "description": "é" * (MAX_BODY_BYTES // 2)}).encode()
    response = post_item(catalog_app, lambda_context, body=big, headers={"content-type": "application/json"})
    assert_error(response, 400, "PAYLOAD_TOO_LARGE")
    assert response_json(response)["error"]["details"] == {"maxBytes": MAX_BODY_BYTES}


def test_body_at_the_limit_is_read(catalog_app, lambda_context):
    body = json.dumps({**ITEM, "extra": ""})
    body = body.replace('"extra": ""', '"extra": "' + "x" * (MAX_BODY_BYTES - len(body)) + '"')
    assert len(body) == MAX_BODY_BYTES
    error = assert_error(
        post_item(catalog_app, lambda_context, body=body, headers={"content-type": "application/json"}),
        422,
        "VALIDATION_FAILED",
    )
    assert error["details"]["fields"][0]["field"] == "extra"


def test_missing_claims_are_401_and_buyers_403(catalog_app, lambda_context):
    assert_error(post_item(catalog_app, lambda_context, json_body=ITEM, claims=None), 401, "UNAUTHORIZED")
    assert_error(post_item(catalog_app, lambda_context, json_body=ITEM, claims={"email": "x@y.z"}), 401, "UNAUTHORIZED")
    error = assert_error(post_item(catalog_app, lambda_context, json_body=ITEM, claims=BUYER_CLAIMS), 403, "FORBIDDEN")
    assert error["message"] == "only sellers can list items"


def test_idempotency_key_header_is_validated(catalog_app, lambda_context):
    response = post_item(catalog_app, lambda_context, json_body=ITEM, headers={"Idempotency-Key": "has spaces"})
    error = assert_error(response, 422, "VALIDATION_FAILED")
    assert error["details"]["fields"][0]["field"] == "idempotency-key"


def test_unknown_route_is_404_in_the_error_shape(catalog_app, lambda_context):
    response = catalog_app.lambda_handler(http_event("GET", "/no/such/route"), lambda_context)
    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "error_type", [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.ShopError)]
)
def test_every_shop_error_answers_with_its_own_status_and_code(catalog_app, lambda_context, monkeypatch, error_type):
    def fail(item_id: str) -> None:
        raise error_type(details={"why": "test"})

    monkeypatch.setattr(catalog, "get_item", fail)
    event = http_event("GET", "/items/itm_x", route="/items/{itemId}", path_parameters={"itemId": "itm_x"})
    error = assert_error(catalog_app.lambda_handler(event, lambda_context), error_type.status, error_type.code)
    assert error["details"] == {"why": "test"} and error["message"] == error_type.default_message


def test_codes_are_upper_snake_and_unique():
    types = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.ShopError)]
    types.remove(errors.ShopError)  # the base: InternalError is its concrete 500
    codes = [cls.code for cls in types]
    assert len(codes) == len(set(codes))
    assert all(code.replace("_", "").isalpha() and code.isupper() for code in codes)
    assert all(cls.status in HTTPStatus for cls in types)


def test_unexpected_errors_are_500_logged_with_traceback(catalog_app, lambda_context, monkeypatch, caplog):
    def crash(item_id: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(catalog, "get_item", crash)
    event = http_event("GET", "/items/itm_x", route="/items/{itemId}", request_id="req-42")
    error = assert_error(catalog_app.lambda_handler(event, lambda_context), 500, "INTERNAL_ERROR")
    assert error["details"] == {"requestId": "req-42"}
    assert "disk on fire" not in json.dumps(error)
    failure = next(record for record in caplog.records if record.levelname == "ERROR")
    assert failure.exc_info is not None and str(failure.exc_info[1]) == "disk on fire"


def test_base64_json_bodies_are_read(catalog_app, lambda_context, tables):
    raw = json.dumps(ITEM).encode()
    response = post_item(catalog_app, lambda_context, body=raw, headers={"content-type": "application/json"})
    assert response["statusCode"] == 201, response
    assert base64.b64decode(http_event("POST", "/x", body=raw)["body"]) == raw


def test_dynamodb_busy_after_botocores_retries_is_503_with_retry_after(catalog_app, lambda_context, monkeypatch):
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import GetError

    def throttled(item_id: str) -> None:
        raise GetError("throttled", ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                                           "Message": "slow down"}}, "GetItem"))  # fmt: skip

    monkeypatch.setattr(catalog, "get_item", throttled)
    event = http_event("GET", "/items/itm_x", route="/items/{itemId}", path_parameters={"itemId": "itm_x"})
    response = catalog_app.lambda_handler(event, lambda_context)
    assert_error(response, 503, "SERVICE_BUSY")
    assert response["headers"]["Retry-After"] == "1"


@pytest.mark.parametrize(
    "raw", [b'{"name": "\xff\xfe"}', b'{"name": "caf\xe9"}', b"\xc3\x28"], ids=["bytes", "latin-1", "truncated"]
)
def test_a_body_that_is_not_utf8_is_400_malformed_json(catalog_app, lambda_context, raw):
    # The gateway sends a body that is not valid UTF-8 text base64-encoded, as API Gateway does.
    response = post_item(catalog_app, lambda_context, body=raw, headers={"content-type": "application/json"})
    assert_error(response, 400, "MALFORMED_JSON")


@pytest.mark.parametrize(
    ("body", "headers", "claims", "status"),
    [
        pytest.param(json.dumps(ITEM), None, SELLER_CLAIMS, 201, id="success"),
        pytest.param(json.dumps({**ITEM, "price": "x"}), None, SELLER_CLAIMS, 422, id="validation-error"),
        pytest.param(json.dumps(ITEM), None, None, 401, id="no-caller"),
        pytest.param("x" * (MAX_BODY_BYTES + 1), None, SELLER_CLAIMS, 400, id="refused-before-routing"),
        pytest.param("{}", {"content-type": "text/plain"}, SELLER_CLAIMS, 400, id="wrong-content-type"),
    ],
)
def test_every_response_carries_the_security_headers(
    catalog_app, lambda_context, tables, body, headers, claims, status
):
    headers = headers or {"content-type": "application/json"}
    event = http_event("POST", "/items", body=body, claims=claims, headers=headers)
    response = catalog_app.lambda_handler(event, lambda_context)
    assert response["statusCode"] == status, response
    for name, value in SECURITY_HEADERS.items():
        assert response["headers"][name] == value, name


def test_a_route_keeps_a_security_header_it_sets_itself():
    response = with_security_headers({"statusCode": 200, "headers": {"content-security-policy": "default-src 'self'"}})
    assert response["headers"]["content-security-policy"] == "default-src 'self'"
    assert "Content-Security-Policy" not in response["headers"]
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
