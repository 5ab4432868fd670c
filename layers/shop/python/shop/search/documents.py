"""Index documents from Items and Inventory stream records: merge rules that make indexing idempotent.

- An item image older than what the index holds (lower `version`, or equal version and older
  `updatedAt`) is ignored, so redelivered or reordered records never roll an item back.
- Stock is kept per variant with the row's `updatedAt`; an older stock row never overwrites a newer one.
- Stock may arrive before its item (the two tables' streams are independent): the document then exists
  hidden, holding the stock, until the item arrives.
- An item whose status is not ACTIVE, or that was deleted, stays as a hidden tombstone with its version.
"""

from __future__ import annotations

from typing import Any

from shop.search.port import Document

SUMMARY_FIELDS = ("itemId", "name", "brand", "category", "price", "currency", "tags", "createdAt")


def merge_item(existing: Document | None, image: dict[str, Any] | None, *, removed: bool, seq: int) -> Document | None:
    """The document after an item INSERT/MODIFY (image = NewImage) or REMOVE (image = OldImage)."""
    if image is None:
        return None
    version = int(image.get("version", 0))
    if existing is not None and existing.state.get("item"):
        held = existing.state["item"]
        if (version, str(image.get("updatedAt", ""))) < (existing.version, str(held.get("updatedAt", ""))):
            return None
    document = existing or Document(item_id=str(image["itemId"]), seq=seq, visible=False, version=version)
    document.version = version
    document.state = {**document.state, "item": _item_fields(image), "removed": removed}
    document.visible = not removed and image.get("status") == "ACTIVE"
    return document


def merge_stock(existing: Document | None, image: dict[str, Any] | None, *, removed: bool, seq: int,
                item_id: str) -> Document | None:  # fmt: skip
    """The document after an Inventory row changed (removed rows count as 0 available)."""
    if image is None:
        return None
    variant = str(image.get("variantId", "default"))
    updated_at = str(image.get("updatedAt", ""))
    document = existing or Document(item_id=item_id, seq=seq, visible=False, version=0)
    stock: dict[str, list[Any]] = dict(document.state.get("stock", {}))
    held = stock.get(variant)
    if held is not None and str(held[1]) > updated_at:
        return None
    stock[variant] = [0 if removed else int(image.get("available", 0)), updated_at]
    document.state = {**document.state, "stock": stock}
    return document


def available(document: Document) -> int:
    return sum(int(units) for units, _ in document.state.get("stock", {}).values())


def summary(document: Document) -> dict[str, Any]:
    """What a search hit shows about an item: the fields of shop.search.schemas.ItemSummary, by their JSON names."""
    item = document.state.get("item", {})
    units = available(document)
    result = {name: item.get(name) for name in SUMMARY_FIELDS}
    result.update(itemId=document.item_id, available=units, inStock=units > 0, image=(item.get("images") or [None])[0])
    return result


def _item_fields(image: dict[str, Any]) -> dict[str, Any]:
    return {
        "itemId": str(image["itemId"]),
        "name": str(image.get("name", "")),
        "description": str(image.get("description", "")),
        "brand": image.get("brand"),
        "category": image.get("category"),
        "tags": [str(tag) for tag in image.get("tags") or []],
        "price": int(image.get("price", 0)),
        "currency": str(image.get("currency", "USD")),
        "status": str(image.get("status", "")),
        "images": _image_urls(image.get("images")),
        "createdAt": str(image.get("createdAt", "")),
        "updatedAt": str(image.get("updatedAt", "")),
    }


def _image_urls(images: Any) -> list[str]:
    """The URLs of an item's READY images (shop.catalog stores {imageId, status, url, ...} entries; a
    PENDING or REJECTED image has nothing to show), in the item's order: a search hit shows the first."""
    urls: list[str] = []
    for entry in images or []:
        if isinstance(entry, dict) and entry.get("status") == "READY" and isinstance(entry.get("url"), str):
            urls.append(entry["url"])
    return urls
