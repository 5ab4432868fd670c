"""What a buyer reads about their orders."""

from __future__ import annotations

from typing import Any, Literal

from shop.cart.schemas import TotalsView
from shop.validation import ViewModel

# Every status an order can be in (shop.orders.lifecycle.STATUSES; a unit test keeps the two equal).
OrderStatus = Literal[
    "PENDING", "CREATED", "CONFIRMED", "SHIPPED", "REJECTED", "PAYMENT_FAILED", "EXPIRED", "CANCELLED"
]


class LineView(ViewModel):
    item_id: str
    variant_id: str
    quantity: int
    unit_price: int
    name: str


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
