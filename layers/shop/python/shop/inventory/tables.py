"""Inventory's rows: stock per item variant (InventoryTable) and each order's reservation (OrdersTable)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from shop.config import checkout_settings, settings
from shop.dynamodb import TableName

DEFAULT_VARIANT = "default"  # the single stock row of an item without variants
RESERVATION = "RESERVATION"  # the sort key of an order's reservation row in OrdersTable


class Stock(Model):
    """InventoryTable: units available per item variant (pk itemId, sk variantId; "default" without variants)."""

    class Meta:
        table_name = TableName(settings, "inventory_table")

    item_id = UnicodeAttribute(hash_key=True, attr_name="itemId")
    variant_id = UnicodeAttribute(range_key=True, attr_name="variantId")
    available = NumberAttribute()
    # Written by checkout (shop.inventory): held for unpaid orders / sold. Rows written before checkout
    # existed have neither; read them as 0. available + reserved + sold only changes on restock.
    reserved = NumberAttribute(null=True)
    sold = NumberAttribute(null=True)
    # Every unit ever put on sale: onboarding's quantity plus each restock. Nothing else changes it, so
    # available + reserved + sold = stocked always (infra.reconcile checks it). Absent on older rows.
    stocked = NumberAttribute(null=True)
    # A hot variant's stock split over shard rows (shop.inventory.shards), each its own partition key: on the
    # home row (this one, shard 0), how many rows take reservations (`shards`; absent: 1, the home row alone)
    # and how many shard rows were ever made (`shardRows`, never shrinks: units may still sit there); on a
    # shard row (pk "itemId#n"), the item it belongs to. Each row keeps its own counts; a variant's stock is
    # their sum.
    shards = NumberAttribute(null=True)
    shard_rows = NumberAttribute(null=True, attr_name="shardRows")
    shard_of = UnicodeAttribute(null=True, attr_name="shardOf")
    updated_at = UnicodeAttribute(attr_name="updatedAt")


class ReservedLine(MapAttribute[str, Any]):
    item_id = UnicodeAttribute(attr_name="itemId")
    variant_id = UnicodeAttribute(attr_name="variantId")
    quantity = NumberAttribute()
    shard = NumberAttribute(null=True)  # the stock row the units came from (absent: the home row)


class ReservationRow(Model):
    """OrdersTable (pk orderId, sk "RESERVATION"): what one order holds, RESERVED -> COMMITTED | RELEASED
    (COMMITTED -> RETURNED when a paid order is cancelled). It makes commit and release idempotent."""

    class Meta:
        table_name = TableName(checkout_settings, "orders_table")

    order_id = UnicodeAttribute(hash_key=True, attr_name="orderId")
    sk = UnicodeAttribute(range_key=True, default=RESERVATION)
    status = UnicodeAttribute()
    lines = ListAttribute[ReservedLine](of=ReservedLine)
    updated_at = UnicodeAttribute(attr_name="updatedAt")
