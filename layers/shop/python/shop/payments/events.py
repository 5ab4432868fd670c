"""Payment rows -> PaymentNeedsConfirmation / PaymentCompleted / PaymentFailed / PaymentRefunded (published
from the Payments stream by shop.orders.events, the one outbox publisher of the Orders and Payments tables)."""

from __future__ import annotations

from typing import Any

from shop.events import RowEvents


def _payment_data(new: dict[str, Any]) -> dict[str, Any]:
    return {"paymentId": new["paymentId"], "orderId": new["orderId"], "userId": new["userId"],
            "status": new.get("status"), "amount": new["amount"], "currency": new["currency"],
            "reason": new.get("failureReason"), "cardLast4": new.get("cardLast4")}  # fmt: skip


PAYMENT_EVENTS = RowEvents(
    source="shop.payments",
    types={"REQUIRES_CONFIRMATION": "PaymentNeedsConfirmation",
           "CAPTURED": "PaymentCompleted", "DECLINED": "PaymentFailed", "INSUFFICIENT_FUNDS": "PaymentFailed",
           "FRAUD_REJECTED": "PaymentFailed", "EXPIRED": "PaymentFailed", "REFUNDED": "PaymentRefunded",
           "CANCELLED": "PaymentFailed"},
    data=_payment_data,
)  # fmt: skip
