"""The catalog's tables: Items (with their variants and images), SkuClaims and Imports."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.models import Model

from shop.config import catalog_settings, settings
from shop.dynamodb import TableName

ITEM_ID_PREFIX = "itm"  # item ids are itm_<ULID> (shop.ids)


class Variant(MapAttribute[str, Any]):
    variant_id = UnicodeAttribute(attr_name="variantId")
    sku = UnicodeAttribute(null=True)
    attributes = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    price = NumberAttribute()


class ItemImage(MapAttribute[str, Any]):
    """One image of an item (shop.catalog.images): PENDING until its upload is processed, then READY or REJECTED."""

    image_id = UnicodeAttribute(attr_name="imageId")
    status = UnicodeAttribute()  # PENDING | READY | REJECTED
    reason = UnicodeAttribute(null=True)  # why it was REJECTED
    url = UnicodeAttribute(null=True)  # the largest rendition, when READY
    renditions = MapAttribute[str, Any](null=True)  # type: ignore[no-untyped-call]  # {"200": url, "800": url}
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")


class Item(Model):
    """ItemsTable: one row per item (pk itemId; GSI bySeller on sellerId + createdAt)."""

    class Meta:
        table_name = TableName(settings, "items_table")

    item_id = UnicodeAttribute(hash_key=True, attr_name="itemId")
    seller_id = UnicodeAttribute(attr_name="sellerId")
    name = UnicodeAttribute()
    description = UnicodeAttribute()
    price = NumberAttribute()
    currency = UnicodeAttribute()
    sku = UnicodeAttribute(null=True)
    brand = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    tags = ListAttribute[str](default=list)
    attributes = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    specifications = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    variants = ListAttribute[Variant](of=Variant, default=list)
    images = ListAttribute[ItemImage](of=ItemImage, default=list)  # shop.catalog.images keeps these
    status = UnicodeAttribute()
    version = VersionAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")  # ISO-8601 UTC with "Z": sorts as time
    updated_at = UnicodeAttribute(attr_name="updatedAt")


# ---------------------------------------------------------------- SKU claims and bulk imports
class SkuClaim(Model):
    """SkuClaimsTable: one row per (seller, SKU) in use, written in the same transaction as the item.

    pk claimId = "sku#<sellerId>#<SKU upper-cased>". Kept out of the Items table so no Items-stream consumer
    ever has to skip guard rows.
    """

    class Meta:
        table_name = TableName(catalog_settings, "sku_claims_table")

    claim_id = UnicodeAttribute(hash_key=True, attr_name="claimId")
    item_id = UnicodeAttribute(attr_name="itemId")
    claimed_at = UnicodeAttribute(attr_name="claimedAt")


class ImportRowError(MapAttribute[str, Any]):
    row = NumberAttribute()
    field = UnicodeAttribute(null=True)
    code = UnicodeAttribute()
    message = UnicodeAttribute()


class ImportJob(Model):
    """ImportsTable: one row per bulk import (pk importId), its progress and its per-row errors (capped)."""

    class Meta:
        table_name = TableName(catalog_settings, "imports_table")

    import_id = UnicodeAttribute(hash_key=True, attr_name="importId")
    seller_id = UnicodeAttribute(attr_name="sellerId")
    format = UnicodeAttribute()
    object_key = UnicodeAttribute(attr_name="objectKey")
    status = UnicodeAttribute()  # PENDING -> PROCESSING -> COMPLETED | FAILED
    # The Lambda request id of the invocation that claimed the import (PENDING -> PROCESSING): only it, or
    # Lambda's retry of it, processes the file.
    processed_by = UnicodeAttribute(null=True, attr_name="processedBy")
    total = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    errors = ListAttribute[ImportRowError](of=ImportRowError, default=list)
    errors_truncated = BooleanAttribute(attr_name="errorsTruncated", default=False)
    failure_reason = UnicodeAttribute(null=True, attr_name="failureReason")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")  # reports are kept for a while, then swept
