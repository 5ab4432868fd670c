"""The Orders table.

OrdersTable holds three kinds of rows per order, all under the order's id (pk orderId, sk kind):
- "ORDER": the order itself (GSI byUser on userId + createdAt serves the buyer's history);
- "HOLD": the payment-window hold, whose TTL (expiresAt) deleting it triggers expiry (shop.checkout);
- "RESERVATION": the order's inventory reservation (shop.inventory.tables.ReservationRow).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shop.config import checkout_settings
from shop.dynamodb import TableName

ORDER = "ORDER"
HOLD = "HOLD"


class Line(MapAttribute[str, Any]):
    item_id = UnicodeAttribute(attr_name="itemId")
    variant_id = UnicodeAttribute(attr_name="variantId")
    quantity = NumberAttribute()
    unit_price = NumberAttribute(attr_name="unitPrice")
    name = UnicodeAttribute()


class HistoryEntry(MapAttribute[str, Any]):
    status = UnicodeAttribute()
    at = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)


class ByUser(GlobalSecondaryIndex["OrderRow"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "byUser"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class OrderRow(Model):
    class Meta:
        table_name = TableName(checkout_settings, "orders_table")

    order_id = UnicodeAttribute(hash_key=True, attr_name="orderId")
    sk = UnicodeAttribute(range_key=True, default=ORDER)
    user_id = UnicodeAttribute(attr_name="userId")
    cart_id = UnicodeAttribute(attr_name="cartId")
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    payment_status = UnicodeAttribute(attr_name="paymentStatus")
    payment_id = UnicodeAttribute(attr_name="paymentId")
    payment_txn_id = UnicodeAttribute(attr_name="paymentTxnId", null=True)
    card_token = UnicodeAttribute(attr_name="cardToken")
    card_last4 = UnicodeAttribute(attr_name="cardLast4")
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    lines = ListAttribute[Line](of=Line)
    totals = MapAttribute[str, Any]()  # type: ignore[no-untyped-call]
    address = MapAttribute[str, Any](null=True)  # type: ignore[no-untyped-call]
    history = ListAttribute[HistoryEntry](of=HistoryEntry)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    by_user = ByUser()


class HoldRow(Model):
    """Lives exactly as long as the payment window; DynamoDB's TTL deletes it (expiresAt, epoch seconds)."""

    class Meta:
        table_name = TableName(checkout_settings, "orders_table")

    order_id = UnicodeAttribute(hash_key=True, attr_name="orderId")
    sk = UnicodeAttribute(range_key=True, default=HOLD)
    expires_at = NumberAttribute(attr_name="expiresAt")
