"""The Carts table: one row per cart, its lines a list of price snapshots."""

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

from shop.config import cart_settings
from shop.dynamodb import TableName


class CartLine(MapAttribute[str, Any]):
    """One line of a cart: the unit price is the snapshot taken when the line was last set."""

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
    # The last orders whose bought lines were removed (newest last): makes remove_bought idempotent per order.
    settled_orders = ListAttribute[str](attr_name="settledOrders", default=list)
    version = VersionAttribute()  # every write is conditional on it: no lost update across devices
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")
