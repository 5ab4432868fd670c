"""Request and response bodies of checkout, orders and payments."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from shop.validation import RequestModel, ViewModel

# 13-19 digits, single spaces allowed between groups. No Luhn check: the provider validates the number,
# and only a well-formed number is worth sending to it (docs/checkout.md).
CARD_PATTERN = r"^\d(?: ?\d){12,18}$"


class PaymentInfo(RequestModel):
    payment_type: Literal["CARD"]
    card_no: Annotated[str, Field(pattern=CARD_PATTERN, description="13-19 digits, spaces allowed")]


class CheckoutRequest(RequestModel):
    cart_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount: Annotated[int, Field(ge=0, description="The cart's total as shown to the buyer, minor units")]
    payment_info: PaymentInfo


class CheckoutAccepted(ViewModel):
    order_id: str
    status: str


class LineView(ViewModel):
    item_id: str
    variant_id: str
    quantity: int
    unit_price: int
    name: str


class TotalsView(ViewModel):
    subtotal: int
    tax: int
    shipping: int
    total: int


class HistoryView(ViewModel):
    status: str
    at: str
    reason: str | None = None


class OrderView(ViewModel):
    order_id: str
    user_id: str
    status: str
    reason: str | None
    amount: int
    currency: str
    payment_id: str
    payment_status: str
    payment_txn_id: str | None
    card_last4: str
    lines: list[LineView]
    totals: TotalsView
    address: dict[str, Any] | None
    created_at: str
    updated_at: str
    history: list[HistoryView]


class OrderPage(ViewModel):
    orders: list[OrderView]
    next_cursor: str | None
