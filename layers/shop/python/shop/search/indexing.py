"""Items and Inventory stream records -> index documents, one batch at a time.

Records are merged into pending documents in stream order (shop.search.documents decides what wins),
then written and committed once per batch: one commit per batch keeps indexing cheap and makes a write
searchable as soon as the batch's commit lands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shop.dynamodb import stream_image
from shop.search.documents import merge_item, merge_stock
from shop.search.port import Document, SearchEngine

log = logging.getLogger("shop.search.indexing")


class Indexer:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self.pending: dict[str, Document] = {}

    def apply_record(self, record: Mapping[str, Any]) -> None:
        """Merge one Items or Inventory stream record, as Lambda receives it, into the pending documents."""
        change = record["dynamodb"]
        self.apply(
            record["eventName"], stream_image(change["Keys"]) or {}, stream_image(change.get("NewImage")),
            stream_image(change.get("OldImage")),
        )  # fmt: skip

    def apply(self, event_name: str, keys: Mapping[str, Any], new_image: Mapping[str, Any] | None,
              old_image: Mapping[str, Any] | None) -> None:  # fmt: skip
        """Merge one record's decoded keys and images (shop.dynamodb.stream_image) into the pending documents."""
        item_id = str(keys["itemId"])
        if "#" in item_id:
            # A hot variant's stock shard row (shop.inventory.shards): the document keeps the home row's
            # units, a hint for the inStock filter; GET /items/{itemId} and checkout read every shard.
            return
        removed = event_name == "REMOVE"
        chosen = old_image if removed else new_image
        image = None if chosen is None else dict(chosen)
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
