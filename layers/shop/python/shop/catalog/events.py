"""Item changes as domain events (ItemCreated, ItemUpdated, ItemDeactivated), read from the Items stream.

The outbox pattern: the catalog only writes the table; what it wrote reaches the bus from the stream, so
an event is published if and only if the change committed. A record delivered twice yields the same
event id (the item id and its version), so consumers deduplicate by id.
ItemUpdated also carries `previousPrice`, the price before the change (price-drop alerts compare the two).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shop import events
from shop.dynamodb import stream_image

SOURCE = "shop.catalog"
ITEM_CREATED = "ItemCreated"
ITEM_UPDATED = "ItemUpdated"
ITEM_DEACTIVATED = "ItemDeactivated"
_ID_NAMESPACE = uuid.UUID("6f1c1f0e-8f6b-4c55-9a43-2b1f3c0d7a10")  # fixed forever: ids must not change

# What every reader may see of an item (GET /items/{id} shows the same); nothing internal rides along.
PUBLIC_FIELDS = (
    "itemId", "sellerId", "name", "description", "price", "currency", "sku", "brand", "category", "tags",
    "attributes", "specifications", "variants", "images", "status", "version", "createdAt", "updatedAt",
)  # fmt: skip
_NOT_CHANGES = frozenset({"version", "updatedAt"})


@dataclass(frozen=True)
class ItemEvent:
    event_type: str
    event_id: str
    occurred_at: str
    data: dict[str, Any]


def event_id(item_id: str, version: int) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{item_id}:{version}"))


def item_event(
    change: str, new_image: Mapping[str, Any] | None, old_image: Mapping[str, Any] | None
) -> ItemEvent | None:
    """The event a stream record stands for, or None when it is no business change.

    change is the record's eventName (INSERT, MODIFY, REMOVE); images are decoded stream images
    (shop.dynamodb.stream_image: plain, JSON-ready values).
    A MODIFY that leaves the version alone is not a catalog change (the catalog bumps the version on
    every change it makes), so it is not announced: its id would collide with the previous event's.
    """
    if change == "REMOVE" or not new_image:
        return None
    new = dict(new_image)
    version = int(new["version"])
    if change == "INSERT":
        event_type = ITEM_CREATED
        data = _public(new)
    else:
        old = dict(old_image or {})
        if old and int(old.get("version", -1)) == version:
            return None
        deactivated = new.get("status") == "INACTIVE" and old.get("status") != "INACTIVE"
        event_type = ITEM_DEACTIVATED if deactivated else ITEM_UPDATED
        data = _public(new)
        data["changedFields"] = sorted(
            name for name in PUBLIC_FIELDS if name not in _NOT_CHANGES and old.get(name) != new.get(name)
        )
        # What it cost before this change: a wishlist's price-drop alert compares the two (shop.notifications).
        data["previousPrice"] = old.get("price", new.get("price"))
    return ItemEvent(
        event_type=event_type,
        event_id=event_id(str(new["itemId"]), version),
        occurred_at=str(new.get("updatedAt") or new.get("createdAt") or ""),
        data=data,
    )


def item_event_of(record: Mapping[str, Any]) -> ItemEvent | None:
    """The event an Items-stream record (as Lambda receives it) stands for; see item_event."""
    change = record.get("dynamodb") or {}
    return item_event(
        str(record.get("eventName", "")), stream_image(change.get("NewImage")), stream_image(change.get("OldImage"))
    )


def publish_item_event(event: ItemEvent) -> dict[str, Any]:
    return events.publish(
        event.event_type, event.data, source=SOURCE, event_id=event.event_id, occurred_at=event.occurred_at or None
    )


def _public(item: Mapping[str, Any]) -> dict[str, Any]:
    data = {name: item.get(name) for name in PUBLIC_FIELDS}
    data["tags"] = list(data["tags"] or [])
    data["attributes"] = dict(data["attributes"] or {})
    data["specifications"] = dict(data["specifications"] or {})
    data["variants"] = [
        {key: variant.get(key) for key in ("variantId", "sku", "attributes", "price")}
        for variant in data["variants"] or []
    ]
    data["images"] = list(data["images"] or [])
    return data
