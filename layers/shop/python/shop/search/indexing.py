"""Items and Inventory stream records -> index documents, one batch at a time.

Records are merged into pending documents in stream order (shop.search.documents decides what wins),
then written and committed once per batch: one commit per batch keeps indexing cheap and makes a write
searchable as soon as the batch's commit lands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shop.search.documents import merge_item, merge_stock
from shop.search.port import Document, SearchEngine

log = logging.getLogger("shop.search.indexing")


class Indexer:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self.pending: dict[str, Document] = {}

    def apply(self, event_name: str, keys: Mapping[str, Any], new_image: Mapping[str, Any] | None,
              old_image: Mapping[str, Any] | None) -> None:  # fmt: skip
        """Merge one stream record (images already deserialized) into the pending documents."""
        item_id = str(keys["itemId"])
        removed = event_name == "REMOVE"
        image = _plain(old_image if removed else new_image)
        existing = self.pending.get(item_id) or self.engine.get([item_id]).get(item_id)
        seq = existing.seq if existing else 0
        if "variantId" in keys:  # an Inventory row
            merged = merge_stock(existing, image, removed=removed, seq=seq, item_id=item_id)
        else:
            merged = merge_item(existing, image, removed=removed, seq=seq)
        if merged is None:
            log.debug("ignored an older or empty record for %s", item_id)
            return
        if merged.seq == 0:
            merged.seq = self.engine.next_seq()
        self.pending[item_id] = merged

    def flush(self) -> int:
        """Write and commit what this batch changed; returns how many documents were written."""
        documents = list(self.pending.values())
        if documents:
            self.engine.upsert(documents)
            self.engine.commit()
        self.pending.clear()
        return len(documents)

    def discard(self) -> None:
        self.pending.clear()
        rollback = getattr(self.engine, "rollback", None)
        if rollback is not None:
            rollback()


def image(attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stream image in DynamoDB JSON -> plain values. Hand-written because the SDK deserializers
    (boto3's, powertools') reject an attribute with no type, which some emulators emit for empty maps."""
    if attributes is None:
        return None
    return {str(name): _attribute(value) for name, value in attributes.items()}


_SCALARS: dict[str, Any] = {
    "S": lambda data: data,
    "B": lambda data: None,  # binary attributes are never searched
    "N": lambda data: _number(Decimal(str(data))),
    "BOOL": bool,
    "NULL": lambda data: None,
}


def _attribute(value: Any) -> Any:
    if not isinstance(value, Mapping) or not value:
        return None
    kind, data = next(iter(value.items()))
    if kind in _SCALARS:
        return _SCALARS[kind](data)
    if kind == "M":
        return {str(k): _attribute(v) for k, v in data.items()}
    if kind == "L":
        return [_attribute(v) for v in data]
    if kind in {"SS", "NS"}:
        return [_attribute({kind[0]: v}) for v in data]
    return None


def _number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _plain(value: Any) -> Any:
    """Stream images deserialize numbers as Decimal and sets as set: make them JSON-ready."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return None
    return value
