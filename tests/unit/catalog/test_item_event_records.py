"""Items-stream records to domain events: which type, which id, which data."""

from __future__ import annotations

from decimal import Decimal

from shop.catalog.events import ITEM_CREATED, ITEM_DEACTIVATED, ITEM_UPDATED, event_id, item_event
from shop.dynamodb import stream_image

ITEM = {
    "itemId": "itm_01", "sellerId": "s-1", "name": "Mug", "description": "", "price": Decimal(999),
    "currency": "USD", "sku": None, "brand": None, "category": "kitchen", "tags": ["mug"],
    "attributes": {"weight": Decimal("0.5")}, "specifications": {},
    "variants": [{"variantId": "v1", "sku": None, "attributes": {}, "price": Decimal(999)}],
    "images": [], "status": "ACTIVE", "version": Decimal(1), "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z",
}  # fmt: skip


def test_insert_is_item_created_with_public_fields_and_a_stable_id():
    event = item_event("INSERT", ITEM, None)
    assert event is not None and event.event_type == ITEM_CREATED
    assert event.event_id == event_id("itm_01", 1) == item_event("INSERT", ITEM, None).event_id
    assert event.data["price"] == 999 and event.data["version"] == 1 and event.data["attributes"] == {"weight": 0.5}
    assert event.occurred_at == ITEM["updatedAt"]


def test_modify_with_a_new_version_is_item_updated_naming_what_changed():
    new = {**ITEM, "price": Decimal(1299), "version": Decimal(2), "updatedAt": "2026-01-02T00:00:00.000Z"}
    event = item_event("MODIFY", new, ITEM)
    assert event is not None and event.event_type == ITEM_UPDATED
    assert event.data["changedFields"] == ["price"] and event.event_id == event_id("itm_01", 2)


def test_deactivation_has_its_own_type():
    new = {**ITEM, "status": "INACTIVE", "version": Decimal(2)}
    assert item_event("MODIFY", new, ITEM).event_type == ITEM_DEACTIVATED
    back = {**ITEM, "status": "ACTIVE", "version": Decimal(3)}
    assert item_event("MODIFY", back, new).event_type == ITEM_UPDATED


def test_writes_that_keep_the_version_and_removals_are_not_announced():
    assert item_event("MODIFY", {**ITEM, "images": ["x"]}, ITEM) is None
    assert item_event("REMOVE", None, ITEM) is None
    assert event_id("itm_01", 1) != event_id("itm_01", 2)


def test_stream_images_with_typeless_empty_maps_are_read():
    raw = {"itemId": {"S": "itm_01"}, "attributes": {}, "price": {"N": "999"}, "tags": {"L": [{"S": "a"}]},
           "sku": {"NULL": True}, "specifications": {"M": {"w": {"N": "0.5"}}}}  # fmt: skip
    assert stream_image(raw) == {
        "itemId": "itm_01", "attributes": {}, "price": Decimal(999), "tags": ["a"], "sku": None,
        "specifications": {"w": Decimal("0.5")},
    }  # fmt: skip
