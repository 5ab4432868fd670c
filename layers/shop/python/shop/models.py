"""The DynamoDB tables as pynamodb models (attribute names in the tables are camelCase, like the API);
shop.dynamodb says how they reach DynamoDB."""

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

from shop.config import cart_settings, catalog_settings, settings
from shop.dynamodb import TableName


class Variant(MapAttribute[str, Any]):
    variant_id = UnicodeAttribute(attr_name="variantId")
    sku = UnicodeAttribute(null=True)
    attributes = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    price = NumberAttribute()


class ItemImage(MapAttribute[str, Any]):
    """One image of an item (shop.media): PENDING until its upload is processed, then READY or REJECTED."""

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
    images = ListAttribute[ItemImage](of=ItemImage, default=list)  # shop.media keeps these
    status = UnicodeAttribute()
    version = VersionAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")  # ISO-8601 UTC with "Z": sorts as time
    updated_at = UnicodeAttribute(attr_name="updatedAt")


class CartLine(MapAttribute[str, Any]):
    """One line of a cart: the unit price is the snapshot taken when the line was last set (shop.cart)."""

    item_id = UnicodeAttribute(attr_name="itemId")
    variant_id = UnicodeAttribute(attr_name="variantId")
    name = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_price = NumberAttribute(attr_name="unitPrice")
    price_taken_at = UnicodeAttribute(attr_name="priceTakenAt")  # ISO-8601 UTC with "Z"
    low_stock = BooleanAttribute(attr_name="lowStock", default=False)  # few units left when the line was set


class Cart(Model):
    """CartsTable: one row per cart (pk cartId: "cart_<sub>" or "guest_<hash of the cart token>"); TTL expiresAt."""

    class Meta:
        table_name = TableName(cart_settings, "carts_table")

    cart_id = UnicodeAttribute(hash_key=True, attr_name="cartId")
    user_id = UnicodeAttribute(null=True, attr_name="userId")  # absent on guest carts
    currency = UnicodeAttribute()
    lines = ListAttribute[CartLine](of=CartLine, default=list)
    last_order_id = UnicodeAttribute(null=True, attr_name="lastOrderId")  # makes clear_cart idempotent
    version = VersionAttribute()  # every write is conditional on it: no lost update across devices
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")


# ---------------------------------------------------------------- catalog onboarding (shop.catalog, shop.imports)
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
    total = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    errors = ListAttribute[ImportRowError](of=ImportRowError, default=list)
    errors_truncated = BooleanAttribute(attr_name="errorsTruncated", default=False)
    failure_reason = UnicodeAttribute(null=True, attr_name="failureReason")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")  # reports are kept for a while, then swept
