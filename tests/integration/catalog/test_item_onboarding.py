"""Changing items over real HTTP: owners only, optimistic versions, deactivation, SKUs, compliance, events."""

from __future__ import annotations

import uuid

import pytest

from tests.support.events import wait_for_event
from tests.support.users import error_code, new_item, register


@pytest.fixture(scope="module")
def owner(api):
    return register(api, "seller")


@pytest.fixture(scope="module")
def inspection(stack):
    if "InspectionQueueUrl" not in stack.outputs:
        pytest.skip("the stack has no inspection queue (prod)")
    return stack


def listed(api, seller, **fields):
    created = api.post("/items", json=new_item(**fields), headers=seller.auth)
    assert created.status_code == 201, created.text
    return created.json()


def item_event(inspection, event_type, item_id, version):
    return wait_for_event(
        inspection,
        lambda e: e.get("detail-type") == event_type and e["detail"]["data"].get("itemId") == item_id
        and e["detail"]["data"].get("version") == version,
        type=event_type,
    )  # fmt: skip


def test_owner_changes_an_item_and_each_change_is_announced(api, owner, inspection):
    item = listed(api, owner, category="Electronics", tags=["mouse"])
    assert item["version"] == 1 and item["category"] == "electronics"
    changed = api.patch(
        f"/items/{item['itemId']}", json={"version": 1, "price": 1299, "name": "  Silent   Mouse "}, headers=owner.auth
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["version"], body["price"], body["name"], body["available"]) == (2, 1299, "Silent Mouse", 100)
    assert body["updatedAt"] > item["updatedAt"]
    assert api.get(f"/items/{item['itemId']}").json()["price"] == 1299

    created = item_event(inspection, "ItemCreated", item["itemId"], 1)
    updated = item_event(inspection, "ItemUpdated", item["itemId"], 2)
    assert created["source"] == "shop.catalog" and created["detail"]["type"] == "ItemCreated"
    assert created["detail"]["data"]["price"] == 999 and updated["detail"]["data"]["price"] == 1299
    assert set(updated["detail"]["data"]["changedFields"]) == {"name", "price"}
    assert created["detail"]["id"] != updated["detail"]["id"]
    assert {"id", "type", "version", "occurredAt", "source", "data"} <= updated["detail"].keys()


def test_other_sellers_and_buyers_are_refused(api, owner, buyer):
    item = listed(api, owner)
    stranger = register(api, "seller")
    for user in (stranger, buyer):
        response = api.patch(f"/items/{item['itemId']}", json={"version": 1, "price": 1}, headers=user.auth)
        assert response.status_code == 403 and error_code(response) == "FORBIDDEN", response.text
        assert api.post(f"/items/{item['itemId']}/deactivate", headers=user.auth).status_code == 403
    fetched = api.get(f"/items/{item['itemId']}").json()
    assert (fetched["version"], fetched["price"], fetched["status"]) == (1, 999, "ACTIVE")
    assert api.patch(f"/items/{item['itemId']}", json={"version": 1, "price": 5}).status_code == 401


def test_a_stale_version_is_409_and_changes_nothing(api, owner):
    item = listed(api, owner)
    assert (
        api.patch(f"/items/{item['itemId']}", json={"version": 1, "name": "A"}, headers=owner.auth).status_code == 200
    )
    stale = api.patch(f"/items/{item['itemId']}", json={"version": 1, "name": "B"}, headers=owner.auth)
    assert stale.status_code == 409 and error_code(stale) == "VERSION_CONFLICT"
    assert stale.json()["error"]["details"]["currentVersion"] == 2
    assert api.get(f"/items/{item['itemId']}").json()["name"] == "A"
    missing = api.patch(f"/items/{item['itemId']}", json={"name": "C"}, headers=owner.auth)
    assert missing.status_code == 422 and error_code(missing) == "VALIDATION_FAILED"
    stock = api.patch(f"/items/{item['itemId']}", json={"version": 2, "quantity": 1}, headers=owner.auth)
    assert stock.status_code == 422  # stock is not the catalog's to change


def test_a_deactivated_item_is_still_readable_by_id(api, owner, inspection):
    item = listed(api, owner)
    off = api.post(f"/items/{item['itemId']}/deactivate", headers=owner.auth)
    assert off.status_code == 200 and off.json()["status"] == "INACTIVE" and off.json()["version"] == 2
    fetched = api.get(f"/items/{item['itemId']}")
    assert fetched.status_code == 200 and fetched.json()["status"] == "INACTIVE"
    assert item_event(inspection, "ItemDeactivated", item["itemId"], 2)["detail"]["data"]["status"] == "INACTIVE"
    on = api.post(f"/items/{item['itemId']}/activate", headers=owner.auth)
    assert on.status_code == 200 and (on.json()["status"], on.json()["version"]) == ("ACTIVE", 3)
    assert api.post(f"/items/{'itm_' + '0' * 26}/deactivate", headers=owner.auth).status_code == 404


def test_a_duplicate_sku_is_409_and_writes_nothing(api, stack, owner):
    sku = f"DUP-{uuid.uuid4().hex[:8]}"
    first = listed(api, owner, sku=sku)
    before = _seller_items(stack, owner.user_id)
    again = api.post("/items", json=new_item(name="Other", sku=sku.lower()), headers=owner.auth)
    assert again.status_code == 409 and error_code(again) == "DUPLICATE_SKU", again.text
    assert again.json()["error"]["details"] == {"sku": sku.lower(), "itemId": first["itemId"]}
    assert _seller_items(stack, owner.user_id) == before


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"description": "Genuine IVORY handle"}, "BANNED_TERM", "description"),
        ({"tags": ["counterfeit"]}, "BANNED_TERM", "tags[0]"),
        ({"category": "Books", "price": 10}, "PRICE_OUT_OF_RANGE", "price"),
    ],
    ids=["banned-description", "banned-tag", "price-below-category"],
)
def test_compliance_rules_are_422_and_write_nothing(api, stack, fields, code, field):
    seller = register(api, "seller")
    refused = api.post("/items", json=new_item(**fields), headers=seller.auth)
    assert refused.status_code == 422 and error_code(refused) == code, refused.text
    details = refused.json()["error"]["details"]
    assert details["field"] == field
    if code == "PRICE_OUT_OF_RANGE":
        assert (details["min"], details["max"], details["category"]) == (50, 500000, "books")
        assert "50..500000" in refused.json()["error"]["message"]
    assert _seller_items(stack, seller.user_id) == []


def _seller_items(stack, seller_id: str) -> list[str]:
    result = stack.client("dynamodb").query(
        TableName=stack.outputs["ItemsTableName"], IndexName="bySeller", KeyConditionExpression="sellerId = :s",
        ExpressionAttributeValues={":s": {"S": seller_id}},
    )  # fmt: skip
    return sorted(row["itemId"]["S"] for row in result["Items"])
