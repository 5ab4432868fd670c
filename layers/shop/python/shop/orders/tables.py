"""The Orders table.

OrdersTable holds these kinds of rows per order, all under the order's id (pk orderId, sk kind):
- "ORDER": the order itself (GSI byUser on userId + createdAt serves the buyer's history, GSI byUserStatus
  on userStatus = "<userId>#<status>" + createdAt the history of one status). Once finished it carries an
  archive TTL (expiresAt): the TTL service's deletion of it is what archives it (shop.orders.archive);
- "ARCHIVED": the archive index entry of an order that left the table for the S3 archive: no order data,
  only what the two indexes sort and filter on and where the archived document is. It lives in the same
  indexes as the live orders, so one Query pages across live and archived orders with one cursor;
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
ARCHIVED = "ARCHIVED"


def user_status(user_id: str, status: str) -> str:
    """The byUserStatus index's partition key: one buyer's orders of one status."""
    return f"{user_id}#{status}"


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


class ByUserStatus(GlobalSecondaryIndex["OrderRow"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "byUserStatus"
        projection = AllProjection()

    user_status = UnicodeAttribute(hash_key=True, attr_name="userStatus")
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
    user_status = UnicodeAttribute(attr_name="userStatus", null=True)  # null only on rows older than the index
    expires_at = NumberAttribute(attr_name="expiresAt", null=True)  # the archive TTL, once the order finished
    by_user = ByUser()
    by_user_status = ByUserStatus()


class ArchivedOrderRow(Model):
    """The archive index entry of an archived order (sk ARCHIVED); never expires."""

    class Meta:
        table_name = TableName(checkout_settings, "orders_table")

    order_id = UnicodeAttribute(hash_key=True, attr_name="orderId")
    sk = UnicodeAttribute(range_key=True, default=ARCHIVED)
    user_id = UnicodeAttribute(attr_name="userId")
    created_at = UnicodeAttribute(attr_name="createdAt")
    status = UnicodeAttribute()
    user_status = UnicodeAttribute(attr_name="userStatus")
    archive_key = UnicodeAttribute(attr_name="archiveKey")  # the S3 object holding the order
    archived_at = UnicodeAttribute(attr_name="archivedAt")


class HoldRow(Model):
    """Lives exactly as long as the payment window; DynamoDB's TTL deletes it (expiresAt, epoch seconds)."""

    class Meta:
        table_name = TableName(checkout_settings, "orders_table")

    order_id = UnicodeAttribute(hash_key=True, attr_name="orderId")
    sk = UnicodeAttribute(range_key=True, default=HOLD)
    expires_at = NumberAttribute(attr_name="expiresAt")
