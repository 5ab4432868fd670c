"""The Payments table: one row per order's payment (pk paymentId; GSI byUser for the fraud velocity rule)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shop.config import checkout_settings
from shop.dynamodb import TableName


class PaymentsByUser(GlobalSecondaryIndex["PaymentRow"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "byUser"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class PaymentRow(Model):
    """PaymentsTable: one row per order's payment (pk paymentId, derived from the order id)."""

    class Meta:
        table_name = TableName(checkout_settings, "payments_table")

    payment_id = UnicodeAttribute(hash_key=True, attr_name="paymentId")
    order_id = UnicodeAttribute(attr_name="orderId")
    user_id = UnicodeAttribute(attr_name="userId")
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    failure_reason = UnicodeAttribute(attr_name="failureReason", null=True)
    card_last4 = UnicodeAttribute(attr_name="cardLast4")
    provider_txn_id = UnicodeAttribute(attr_name="providerTxnId", null=True)
    refund_id = UnicodeAttribute(attr_name="refundId", null=True)
    # Set with VOIDING: how the payment ends once the provider voided it (CANCELLED or EXPIRED), so a void
    # resumed by another worker or the reconciler ends it the same way.
    ends_as = UnicodeAttribute(attr_name="endsAs", null=True)
    task_token = UnicodeAttribute(attr_name="taskToken", null=True)
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    by_user = PaymentsByUser()
