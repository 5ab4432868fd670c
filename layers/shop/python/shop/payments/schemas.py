"""What a customer reads back about a payment they confirmed."""

from __future__ import annotations

from shop.validation import ViewModel


class PaymentView(ViewModel):
    payment_id: str
    order_id: str
    status: str
    amount: int
    currency: str
