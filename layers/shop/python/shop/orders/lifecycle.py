"""Orders: their life cycle and the buyer's read path.

PENDING (accepted by POST /checkout) -> CREATED (stock reserved, awaiting payment) -> CONFIRMED (paid,
stock sold) -> SHIPPED; or PENDING -> REJECTED (out of stock); PENDING/CREATED -> PAYMENT_FAILED |
EXPIRED; PENDING/CREATED/CONFIRMED -> CANCELLED. Every move is one conditional write from the statuses it
may come from, so the saga, the expiry consumer and a cancelling buyer can race: the first wins and the
others change nothing. Each move also appends to the order's history. What an order that ends early
held is undone by shop.checkout.saga's one unwind sequence, which closes the order last (close).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from shop import clock, inventory, payments
from shop.cart.schemas import TotalsView
from shop.config import checkout_settings
from shop.dynamodb import ConditionCheck, cancellation, condition_failed, find, plain_map, transaction
from shop.errors import OrderNotFoundError, ValidationFailedError
from shop.identity import Caller, require_buyer
from shop.ids import is_id
from shop.orders.schemas import HistoryView, LineView, OrderPage, OrderView
from shop.orders.tables import HOLD, ORDER, HistoryEntry, HoldRow, Line, OrderRow

ORDER_ID_PREFIX = "ord"
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "CREATED": ("PENDING",),
    "REJECTED": ("PENDING",),
    "CONFIRMED": ("CREATED",),
    "PAYMENT_FAILED": ("PENDING", "CREATED"),
    "EXPIRED": ("PENDING", "CREATED"),
    "CANCELLED": ("PENDING", "CREATED", "CONFIRMED"),
    "SHIPPED": ("CONFIRMED",),
}
TERMINAL = frozenset({"REJECTED", "PAYMENT_FAILED", "EXPIRED", "CANCELLED", "SHIPPED"})
STATUSES = frozenset({"PENDING", *ALLOWED_FROM})


class OrderNoLongerPending(Exception):
    """The order left the status a saga step expected (expired or cancelled meanwhile)."""


def new_order(*, order_id: str, user_id: str, cart_id: str, amount: int, currency: str, lines: Sequence[Any],
              totals: dict[str, int], card_token: str, card_last4: str) -> OrderRow:  # fmt: skip
    """The PENDING order, with a hold whose TTL is the payment window (so an order whose saga never
    started still expires). Idempotent: an order with this id that exists already is answered as it is."""
    now = clock.now_iso()
    order = OrderRow(
        order_id, ORDER, user_id=user_id, cart_id=cart_id, status="PENDING", payment_status="PENDING",
        payment_id=payments.payment_id_for(order_id), card_token=card_token, card_last4=card_last4,
        amount=amount, currency=currency, totals=totals, created_at=now, updated_at=now,
        lines=[Line(item_id=x.item_id, variant_id=x.variant_id, quantity=x.quantity, unit_price=x.unit_price,  # type: ignore[no-untyped-call]
                    name=x.name) for x in lines],
        history=[HistoryEntry(status="PENDING", at=now)],  # type: ignore[no-untyped-call]
    )  # fmt: skip
    try:
        with transaction() as writes:
            writes.save(order, condition=OrderRow.order_id.does_not_exist())  # puts in order: the order is 0
            writes.save(HoldRow(order_id, HOLD, expires_at=_payment_window_end()))
    except TransactWriteError as error:
        if 0 not in cancellation(error).failed:
            raise
        return load(order_id)  # placed before: a retry of the same request
    return order


def _payment_window_end() -> int:
    return int(time.time()) + checkout_settings().payment_window_seconds


def load(order_id: str) -> OrderRow:
    order = find(OrderRow, order_id, ORDER)
    if order is None:
        raise OrderNotFoundError(details={"orderId": order_id})
    return order


def status_of(order_id: str) -> str | None:
    """The order's status, None when there is no such order (what the payment reconciler asks)."""
    order = find(OrderRow, order_id, ORDER)
    return None if order is None else str(order.status)


def _move_actions(to: str, reason: str | None) -> list[Any]:
    now = clock.now_iso()
    entry = HistoryEntry(status=to, at=now, reason=reason)  # type: ignore[no-untyped-call]
    actions = [
        OrderRow.status.set(to),
        OrderRow.updated_at.set(now),
        OrderRow.history.set(OrderRow.history.append([entry])),
    ]
    if reason:
        actions.append(OrderRow.reason.set(reason))
    return actions


def while_pending(order_id: str) -> ConditionCheck:
    """The condition "the order is still PENDING", checked in another context's transaction (the reservation)."""
    return ConditionCheck(OrderRow, order_id, ORDER, OrderRow.status == "PENDING")


def transition(order_id: str, to: str, *, reason: str | None = None, extra: Sequence[Any] = ()) -> bool:
    """Move the order to `to` if it is in one of the statuses allowed before it; False if it is not."""
    try:
        OrderRow(order_id, ORDER).update(
            actions=[*_move_actions(to, reason), *extra], condition=OrderRow.status.is_in(*ALLOWED_FROM[to])
        )
        return True
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise


# ---------------------------------------------------------------- saga steps (called by shop.checkout.saga)
def create(order_id: str) -> None:
    """PENDING -> CREATED, with the hold whose TTL is the payment window. Idempotent."""
    try:
        with transaction() as writes:
            writes.save(HoldRow(order_id, HOLD, expires_at=_payment_window_end()))
            writes.update(OrderRow(order_id, ORDER), actions=_move_actions("CREATED", None),
                          condition=OrderRow.status == "PENDING")  # fmt: skip
    except TransactWriteError as error:
        status = load(order_id).status  # re-read: the refusal alone cannot say what happened
        if status == "PENDING":
            raise  # not moved: a conflict or throttling, which the caller retries, or a fault to report
        if status != "CREATED":
            raise OrderNoLongerPending(status) from error


def confirm(order_id: str, payment_txn_id: str | None) -> None:
    """CREATED -> CONFIRMED in one transaction with the hold's deletion and the reservation becoming a
    sale, so a confirmed order always has sold stock and can no longer expire. Idempotent."""
    sale = inventory.sale_of(order_id)
    if sale is None:  # committed before (a retry), or released by an expiry or a cancel
        status = load(order_id).status
        if status in ("CONFIRMED", "SHIPPED"):
            return
        raise OrderNoLongerPending(status)
    txn = [OrderRow.payment_txn_id.set(payment_txn_id)] if payment_txn_id else []
    try:
        with transaction() as writes:
            writes.delete(HoldRow(order_id, HOLD))
            sale.add_to(writes)
            writes.update(
                OrderRow(order_id, ORDER),
                actions=[*_move_actions("CONFIRMED", None), OrderRow.payment_status.set("CAPTURED"), *txn],
                condition=OrderRow.status == "CREATED",
            )  # fmt: skip
    except TransactWriteError as error:
        status = load(order_id).status  # re-read: the refusal alone cannot say what happened
        if status == "CREATED":
            raise  # not moved: a conflict or throttling, which the caller retries, or a fault to report
        if status not in ("CONFIRMED", "SHIPPED"):
            raise OrderNoLongerPending(status) from error


def close(order_id: str, status: str, reason: str) -> bool:
    """End the order as failed (REJECTED, PAYMENT_FAILED, EXPIRED, CANCELLED) with its reason, recording
    what its payment became; its hold goes too, so nothing expires it later. Idempotent.

    The last step of checkout's unwind. An order a cancel or an expiry already claimed in this status keeps
    its history and reason, and gets its payment's final status; True only when this call moved it.
    """
    payment = payments.get_payment_row(payments.payment_id_for(order_id))
    recorded: list[Any] = [OrderRow.payment_status.set(payment.status)] if payment is not None else []
    moved = transition(order_id, status, reason=reason, extra=recorded)
    if not moved and recorded:
        try:
            OrderRow(order_id, ORDER).update(actions=recorded, condition=OrderRow.status == status)
        except UpdateError as error:
            if not condition_failed(error):
                raise
    HoldRow(order_id, HOLD).delete()
    return moved


def ship(order_id: str) -> bool:
    return transition(order_id, "SHIPPED")


# ---------------------------------------------------------------- the buyer's API
def get_order(caller: Caller, order_id: str) -> OrderView:
    return view(load_own(caller, order_id))


def list_orders(caller: Caller, *, status: str | None, cursor: str | None, size: int) -> OrderPage:
    """The caller's orders, newest first, optionally of one status; cursor pagination."""
    require_buyer(caller)
    if status is not None and status not in STATUSES:
        raise ValidationFailedError.of_field("status", f"one of {', '.join(sorted(STATUSES))}", "enum")
    start = _decode_cursor(caller, cursor)
    found: list[OrderRow] = []
    while len(found) < size:
        page = OrderRow.by_user.query(
            caller.user_id, scan_index_forward=False, limit=size - len(found), last_evaluated_key=start,
            filter_condition=(OrderRow.status == status) if status else None,
        )  # fmt: skip
        found += list(page)
        start = page.last_evaluated_key
        if not start:
            break
    return OrderPage(orders=[view(o) for o in found], next_cursor=_encode_cursor(start) if start else None)


def view(order: OrderRow) -> OrderView:
    totals = plain_map(order.totals)
    address = plain_map(order.address) if order.address is not None else None
    return OrderView(
        order_id=order.order_id, user_id=order.user_id, status=order.status, reason=order.reason,
        amount=int(order.amount), currency=order.currency, payment_id=order.payment_id,
        payment_status=order.payment_status, payment_txn_id=order.payment_txn_id, card_last4=order.card_last4,
        lines=[LineView(item_id=x.item_id, variant_id=x.variant_id, quantity=int(x.quantity),
                        unit_price=int(x.unit_price), name=x.name) for x in order.lines],
        totals=TotalsView(**{k: int(v) for k, v in totals.items() if k in ("subtotal", "tax", "shipping", "total")}),
        address=address, created_at=order.created_at, updated_at=order.updated_at,
        history=[HistoryView(status=h.status, at=h.at, reason=h.reason) for h in order.history],
    )  # fmt: skip


def load_own(caller: Caller, order_id: str) -> OrderRow:
    """The caller's order; another buyer's order answers 404, as if it did not exist (admins included)."""
    require_buyer(caller)
    if not is_id(order_id, ORDER_ID_PREFIX):
        raise OrderNotFoundError(details={"orderId": order_id})
    order = load(order_id)
    if order.user_id != caller.user_id:
        raise OrderNotFoundError(details={"orderId": order_id})  # never reveal other buyers' orders
    return order


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(caller: Caller, cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if key["userId"]["S"] != caller.user_id:
            raise ValueError("not this user's cursor")
        return dict(key)
    except (ValueError, KeyError, TypeError):
        raise ValidationFailedError.of_field("cursor", "not a cursor from this list", "invalid") from None
