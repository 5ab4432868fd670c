"""The catalog against moto's in-process DynamoDB: one transaction per item, stock per variant, idempotency."""

from __future__ import annotations

import pytest
from pynamodb.exceptions import TransactWriteError

from shop import catalog
from shop.catalog import items
from shop.catalog.schemas import NewItem
from shop.errors import (
    ForbiddenError,
    IdempotencyKeyReusedError,
    ItemNotFoundError,
    RequestInProgressError,
)
from shop.identity import caller_from_claims
from shop.ids import new_id
from tests.unit.shop.apigw_events import (
    BUYER_CLAIMS,
    SELLER_CLAIMS,
    LambdaContext,
    http_event,
    load_handler,
    response_json,
)

CONTEXT = LambdaContext()
SELLER = caller_from_claims(SELLER_CLAIMS)
OTHER_SELLER = caller_from_claims({**SELLER_CLAIMS, "sub": "another-seller"})
BUYER = caller_from_claims(BUYER_CLAIMS)
MOUSE = {"name": "Wireless Mouse", "description": "Ergonomic", "price": 999, "quantity": 100}
SHIRT = {
    "name": "Basic Cotton T-Shirt",
    "description": "100% cotton",
    "price": 1599,
    "quantity": 35,
    "variants": [
        {"variantId": "RD-M", "sku": "TS-RD-M", "attributes": {"color": "red", "size": "M"}, "stock": 20},
        {"attributes": {"color": "blue", "size": "L"}, "stock": 15, "price": 1799},
    ],
}


def new_item(body):
    return NewItem.model_validate(body)


def rows(dynamodb, table, item_id):
    return dynamodb.query(
        TableName=table,
        KeyConditionExpression="itemId = :i",
        ExpressionAttributeValues={":i": {"S": item_id}},
        ConsistentRead=True,
    )["Items"]


def count(dynamodb, table):
    return dynamodb.scan(TableName=table, Select="COUNT")["Count"]


def test_item_without_variants_has_one_default_stock_row(tables):
    created = catalog.onboard_item(SELLER, new_item(MOUSE))
    assert created.item_id.startswith("itm_") and created.seller_id == SELLER.user_id
    assert (created.price, created.currency, created.available, created.variants) == (999, "USD", 100, [])
    assert (created.status, created.version, created.images) == ("ACTIVE", 1, [])
    assert created.created_at == created.updated_at and created.created_at.endswith("Z")
    stock = rows(tables, "Inventory", created.item_id)
    assert [(row["variantId"]["S"], row["available"]["N"]) for row in stock] == [("default", "100")]
    stored = rows(tables, "Items", created.item_id)[0]
    assert stored["sellerId"]["S"] == SELLER.user_id and stored["createdAt"]["S"] == created.created_at
    assert catalog.get_item(created.item_id) == created


def test_variants_get_ids_prices_and_their_own_stock(tables):
    created = catalog.onboard_item(SELLER, new_item(SHIRT))
    assert [(v.variant_id, v.sku, v.price, v.available) for v in created.variants] == [
        ("RD-M", "TS-RD-M", 1599, 20),
        ("v1", None, 1799, 15),
    ]
    assert created.available == 35
    stock = {row["variantId"]["S"]: int(row["available"]["N"]) for row in rows(tables, "Inventory", created.item_id)}
    assert stock == {"RD-M": 20, "v1": 15}
    fetched = catalog.get_item(created.item_id)
    assert fetched.available == 35 and [v.available for v in fetched.variants] == [20, 15]


def test_generated_variant_ids_skip_the_sellers_own():
    body = {**SHIRT, "quantity": 3, "variants": [{"stock": 1}, {"variantId": "v1", "stock": 1}, {"stock": 1}]}
    assert items._variant_ids(new_item(body)) == ["v2", "v1", "v3"]


def test_available_follows_the_inventory_rows(tables):
    created = catalog.onboard_item(SELLER, new_item(SHIRT))
    tables.update_item(
        TableName="Inventory",
        Key={"itemId": {"S": created.item_id}, "variantId": {"S": "RD-M"}},
        UpdateExpression="SET available = :a",
        ExpressionAttributeValues={":a": {"N": "7"}},
    )
    fetched = catalog.get_item(created.item_id)
    assert fetched.available == 22 and fetched.variants[0].available == 7


def test_only_sellers_list_items(tables):
    with pytest.raises(ForbiddenError, match="only sellers can list items"):
        catalog.onboard_item(BUYER, new_item(MOUSE))
    assert count(tables, "Items") == count(tables, "Inventory") == 0


def test_a_failed_transaction_writes_nothing(tables, monkeypatch):
    taken = new_id("itm")
    tables.put_item(TableName="Items", Item={"itemId": {"S": taken}})
    monkeypatch.setattr(items, "new_id", lambda prefix: taken)
    with pytest.raises(TransactWriteError) as failed:
        catalog.onboard_item(SELLER, new_item(SHIRT))
    assert failed.value.cancellation_reasons[0].code == "ConditionalCheckFailed"
    assert rows(tables, "Inventory", taken) == []
    assert rows(tables, "Items", taken) == [{"itemId": {"S": taken}}]


@pytest.mark.parametrize("item_id", ["itm_does_not_exist", "x" * 5000, "", new_id("ord")])
def test_malformed_ids_are_not_found(tables, item_id):
    with pytest.raises(ItemNotFoundError):
        catalog.get_item(item_id)


def test_unknown_id_is_not_found(tables):
    with pytest.raises(ItemNotFoundError):
        catalog.get_item(new_id("itm"))


# ---------------------------------------------------------------- idempotency
def test_retry_with_the_same_key_returns_the_first_item_and_writes_nothing(tables, lambda_context):
    first = catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=lambda_context)
    writes = (count(tables, "Items"), count(tables, "Inventory"))
    again = catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=lambda_context)
    assert again == first
    assert (count(tables, "Items"), count(tables, "Inventory")) == writes == (1, 1)


def test_same_key_with_another_body_is_refused(tables):
    catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT)
    with pytest.raises(IdempotencyKeyReusedError):
        catalog.onboard_item(SELLER, new_item({**MOUSE, "price": 1999}), idempotency_key="k-1", lambda_context=CONTEXT)
    assert count(tables, "Items") == 1


def test_bodies_equal_once_normalised_are_the_same_request(tables):
    first = catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT)
    again = catalog.onboard_item(
        SELLER, new_item({**MOUSE, "name": " Wireless  Mouse "}), idempotency_key="k-1", lambda_context=CONTEXT
    )
    assert again.item_id == first.item_id


def test_keys_belong_to_one_seller(tables):
    mine = catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT)
    theirs = catalog.onboard_item(OTHER_SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT)
    assert mine.item_id != theirs.item_id and count(tables, "Items") == 2


def test_a_request_still_in_progress_is_refused(tables, monkeypatch):
    create = items._onboard
    seen = []

    def create_while_a_retry_arrives(seller_id, item):
        with pytest.raises(RequestInProgressError) as retry:
            catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT)
        seen.append(retry.value)
        return create(seller_id, item)

    monkeypatch.setattr(items, "_onboard", create_while_a_retry_arrives)
    catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT)
    assert len(seen) == 1 and count(tables, "Items") == 1


def test_a_failed_attempt_frees_its_key(tables, monkeypatch):
    create = items._onboard

    def fail_once(seller_id, item):
        monkeypatch.setattr(items, "_onboard", create)
        raise RuntimeError("transient")

    monkeypatch.setattr(items, "_onboard", fail_once)
    with pytest.raises(RuntimeError):
        catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT)
    assert catalog.onboard_item(SELLER, new_item(MOUSE), idempotency_key="k-1", lambda_context=CONTEXT).available == 100


# ---------------------------------------------------------------- through the handler
def test_handler_answers_201_with_location_and_replays_it(tables, lambda_context):
    app = load_handler("catalog")
    event = http_event("POST", "/items", json_body=SHIRT, claims=SELLER_CLAIMS, headers={"Idempotency-Key": "abc"})
    first, second = app.lambda_handler(event, lambda_context), app.lambda_handler(event, lambda_context)
    assert first["statusCode"] == second["statusCode"] == 201
    assert first["body"] == second["body"] and first["headers"]["Location"] == second["headers"]["Location"]
    item = response_json(first)
    assert first["headers"]["Location"] == f"/items/{item['itemId']}"
    assert {"itemId", "sellerId", "price", "currency", "available", "variants", "createdAt"} <= item.keys()
    assert item["variants"][0] == {
        "variantId": "RD-M",
        "sku": "TS-RD-M",
        "attributes": {"color": "red", "size": "M"},
        "price": 1599,
        "available": 20,
    }

    reused = http_event(
        "POST", "/items", json_body={**SHIRT, "price": 1}, claims=SELLER_CLAIMS, headers={"Idempotency-Key": "abc"}
    )
    conflict = app.lambda_handler(reused, lambda_context)
    assert conflict["statusCode"] == 409 and response_json(conflict)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    path = f"/items/{item['itemId']}"
    fetched = app.lambda_handler(
        http_event("GET", path, route="/items/{itemId}", path_parameters={"itemId": item["itemId"]}), lambda_context
    )
    assert fetched["statusCode"] == 200 and response_json(fetched) == item


def test_handler_answers_404_for_unknown_items(tables, lambda_context):
    app = load_handler("catalog")
    for item_id in [new_id("itm"), "itm_does_not_exist"]:
        response = app.lambda_handler(http_event("GET", f"/items/{item_id}", route="/items/{itemId}"), lambda_context)
        assert response["statusCode"] == 404
        assert response_json(response)["error"]["code"] == "ITEM_NOT_FOUND"
