"""Orders: their life cycle and the buyer's read path.

PENDING (accepted by POST /checkout) -> CREATED (stock reserved, awaiting payment) -> CONFIRMED (paid,
stock sold) -> SHIPPED; or PENDING -> REJECTED (out of stock); PENDING/CREATED -> PAYMENT_FAILED |
EXPIRED; PENDING/CREATED/CONFIRMED -> CANCELLED. Every move is one conditional write from the statuses it
may come from, so the saga, the expiry consumer and a cancelling buyer can race: the first wins and the
others change nothing. Each move also appends to the order's history. What an order that ends early
held is undone by shop.checkout.saga's one unwind sequence, which closes the order last (close).

A finished order gets its archive TTL when it ends for good (ship, or close after the unwind): the TTL
service then moves it to the S3 archive (shop.orders.archive), and the buyer's reads go on finding it there.
Every status move also moves the order in the byUserStatus index (userStatus), so a buyer's orders of one
status are a Query of that index, never a filter over all of them.
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
from shop.dynamodb import ConditionCheck, GuardedUpdate, cancellation, condition_failed, find, plain_map, transaction
from shop.errors import OrderNotFoundError, ValidationFailedError
from shop.identity import Caller, require_buyer
from shop.ids import is_id
from shop.orders import archive
from shop.orders.schemas import HistoryView, LineView, OrderPage, OrderView
from shop.orders.tables import (
    ARCHIVED,
    HOLD,
    ORDER,
    ArchivedOrderRow,
    HistoryEntry,
    HoldRow,
    Line,
    OrderRow,
    user_status,
)

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
# An order's paymentStatus is PENDING until the saga charges it, then its payment's status; an order that ends
# before any charge was made (rejected for stock, cancelled or expired before paying) says so.
NOT_CHARGED = "NOT_CHARGED"


class OrderNoLongerPending(Exception):
    """The order left the status a saga step expected (expired or cancelled meanwhile)."""


class PaymentNotCaptured(OrderNoLongerPending):
    """The order is still CREATED but its payment is not CAPTURED (any more): it cannot be confirmed."""


def new_order(*, order_id: str, user_id: str, cart_id: str, amount: int, currency: str, lines: Sequence[Any],
              totals: dict[str, int], card_token: str, card_last4: str,
              address: dict[str, Any] | None = None) -> OrderRow:  # fmt: skip
    """The PENDING order, with a hold whose TTL is the payment window (so an order whose saga never
    started still expires). Idempotent: an order with this id that exists already is answered as it is."""
    now = clock.now_iso()
    order = OrderRow(
        order_id, ORDER, user_id=user_id, cart_id=cart_id, status="PENDING",
        user_status=user_status(user_id, "PENDING"), payment_status="PENDING",
        payment_id=payments.payment_id_for(order_id), card_token=card_token, card_last4=card_last4,
        amount=amount, currency=currency, totals=totals, address=address, created_at=now, updated_at=now,
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


def _owner(order_id: str) -> str:
    """The order's buyer, which never changes: what a status move needs to move it in byUserStatus."""
    order = find(OrderRow, order_id, ORDER)
    if order is None:
        raise OrderNotFoundError(details={"orderId": order_id})
    return str(order.user_id)


def _move_actions(order_id: str, to: str, reason: str | None, owner: str | None = None) -> list[Any]:
    """The writes of a status move; `owner` is the order's buyer when the caller has it (a saga step's state,
    an order it loaded), which saves reading the order for it."""
    now = clock.now_iso()
    entry = HistoryEntry(status=to, at=now, reason=reason)  # type: ignore[no-untyped-call]
    actions = [
        OrderRow.status.set(to),
        OrderRow.user_status.set(user_status(owner or _owner(order_id), to)),
        OrderRow.updated_at.set(now),
        OrderRow.history.set(OrderRow.history.append([entry])),
    ]
    if reason:
        actions.append(OrderRow.reason.set(reason))
    return actions


def while_pending(order_id: str) -> ConditionCheck:
    """The condition "the order is still PENDING", checked in another context's transaction (the reservation)."""
    return ConditionCheck(OrderRow, order_id, ORDER, OrderRow.status == "PENDING")


def created_with_reservation(order_id: str, owner: str) -> GuardedUpdate:
    """PENDING -> CREATED with the payment-window hold renewed, written in the transaction that reserves the
    order's stock (the saga's ReserveInventory): the reservation's guard "the order is still PENDING", the
    order's move and the hold in one round trip, so an order is CREATED exactly when its stock is held, and
    its window runs from then (a reservation that waited out throttling does not eat into it)."""
    hold = HoldRow(order_id, HOLD, expires_at=_payment_window_end())
    return GuardedUpdate(OrderRow(order_id, ORDER), _move_actions(order_id, "CREATED", None, owner),
                         OrderRow.status == "PENDING", puts=(hold,))  # fmt: skip


def transition(order_id: str, to: str, *, reason: str | None = None, extra: Sequence[Any] = (),
               owner: str | None = None) -> bool:  # fmt: skip
    """Move the order to `to` if it is in one of the statuses allowed before it; False if it is not."""
    try:
        OrderRow(order_id, ORDER).update(
            actions=[*_move_actions(order_id, to, reason, owner), *extra],
            condition=OrderRow.status.is_in(*ALLOWED_FROM[to]),
        )
        return True
    except OrderNotFoundError:
        return False  # no such order (or archived already): nothing to move
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise


# ---------------------------------------------------------------- saga steps (called by shop.checkout.saga)
def create(order_id: str) -> None:
    """PENDING -> CREATED, with the hold whose TTL is the payment window. Idempotent.

    The CreateOrder task of executions started before ReserveInventory moved the order itself
    (created_with_reservation); for them it finds the order CREATED and changes nothing."""
    try:
        with transaction() as writes:
            writes.save(HoldRow(order_id, HOLD, expires_at=_payment_window_end()))
            writes.update(OrderRow(order_id, ORDER), actions=_move_actions(order_id, "CREATED", None),
                          condition=OrderRow.status == "PENDING")  # fmt: skip
    except TransactWriteError as error:
        status = load(order_id).status  # re-read: the refusal alone cannot say what happened
        if status == "PENDING":
            raise  # not moved: a conflict or throttling, which the caller retries, or a fault to report
        if status != "CREATED":
            raise OrderNoLongerPending(status) from error


def confirm(order_id: str, payment_txn_id: str | None, *, owner: str | None = None,
            reserved: Sequence[inventory.ReservedUnits] | None = None) -> None:  # fmt: skip
    """CREATED -> CONFIRMED in one transaction with the hold's deletion, the reservation becoming a sale
    and a check that the payment is CAPTURED, so a confirmed order always has sold stock and its money,
    and can no longer expire. Idempotent.

    `owner` and `reserved` (the units the reservation took, as reserve() answered them) are what the
    saga's state already knows: given, the transaction is the only call; the reservation record is read
    only without them. Raises PaymentNotCaptured when the payment is not (or no longer) CAPTURED,
    OrderNoLongerPending when the order or its reservation moved on (an expiry, a cancel)."""
    sale = inventory.sale_of(order_id) if reserved is None else inventory.sale_from(order_id, reserved)
    if sale is None:  # committed before (a retry), or released by an expiry or a cancel
        status = load(order_id).status
        if status in ("CONFIRMED", "SHIPPED"):
            return
        raise OrderNoLongerPending(status)
    txn = [OrderRow.payment_txn_id.set(payment_txn_id)] if payment_txn_id else []
    try:
        with transaction() as writes:
            payments.captured(order_id).add_to(writes)  # a condition check: position 0
            writes.delete(HoldRow(order_id, HOLD))
            sale.add_to(writes)
            writes.update(
                OrderRow(order_id, ORDER),
                actions=[*_move_actions(order_id, "CONFIRMED", None, owner), OrderRow.payment_status.set("CAPTURED"),
                         *txn],
                condition=OrderRow.status == "CREATED",
            )  # fmt: skip
    except TransactWriteError as error:
        status = load(order_id).status  # re-read: the refusal alone cannot say what happened
        if status == "CREATED":
            if 0 in cancellation(error).failed:
                payment = payments.get_payment_row(payments.payment_id_for(order_id))
                raise PaymentNotCaptured(f"payment is {None if payment is None else payment.status}") from error
            raise  # not moved: a conflict or throttling, which the caller retries, or a fault to report
        if status not in ("CONFIRMED", "SHIPPED"):
            raise OrderNoLongerPending(status) from error


def close(order_id: str, status: str, reason: str, *, owner: str | None = None) -> bool:
    """End the order as failed (REJECTED, PAYMENT_FAILED, EXPIRED, CANCELLED) with its reason, recording
    what its payment became (NOT_CHARGED when no charge was ever made); its hold goes too, so nothing expires it
    later. Idempotent.

    The last step of checkout's unwind. An order a cancel or an expiry already claimed in this status keeps
    its history and reason, and gets its payment's final status; True only when this call moved it.
    """
    payment = payments.get_payment_row(payments.payment_id_for(order_id))
    recorded: list[Any] = [
        OrderRow.payment_status.set(NOT_CHARGED if payment is None else payment.status),
        OrderRow.expires_at.set(_archive_time()),  # archived only once closed, not while the unwind runs
    ]
    moved = transition(order_id, status, reason=reason, extra=recorded, owner=owner)
    if not moved:
        try:
            OrderRow(order_id, ORDER).update(actions=recorded, condition=OrderRow.status == status)
        except UpdateError as error:
            if not condition_failed(error):
                raise
    HoldRow(order_id, HOLD).delete()
    return moved


def ship(order_id: str, *, owner: str | None = None) -> bool:
    return transition(order_id, "SHIPPED", extra=[OrderRow.expires_at.set(_archive_time())], owner=owner)


def _archive_time() -> int:
    """When a finished order leaves the table for the archive (its TTL, epoch seconds)."""
    return int(time.time()) + checkout_settings().archive_after_seconds


# ---------------------------------------------------------------- the buyer's API
def get_order(caller: Caller, order_id: str) -> OrderView:
    """The caller's order, live or archived (read through to the archive, `archived: true`)."""
    require_buyer(caller)
    if not is_id(order_id, ORDER_ID_PREFIX):
        raise OrderNotFoundError(details={"orderId": order_id})
    order = find(OrderRow, order_id, ORDER)
    if order is not None:
        _check_owner(caller, order_id, order.user_id)
        return view(order)
    entry = find(ArchivedOrderRow, order_id, ARCHIVED)
    if entry is None:
        raise OrderNotFoundError(details={"orderId": order_id})
    _check_owner(caller, order_id, entry.user_id)
    return archived_view(archive.read(entry.archive_key))


def list_orders(caller: Caller, *, status: str | None, cursor: str | None, size: int) -> OrderPage:
    """The caller's orders, live and archived, newest first, optionally of one status; cursor pagination.

    One Query of one index reads exactly the page (byUser, or byUserStatus for one status: no filter
    after the read, so a page costs the same for a buyer with ten orders as for one with ten thousand).
    Archived orders are index entries (sk ARCHIVED) sorted among the live ones, so the one cursor (the
    index's LastEvaluatedKey) crosses the live/archived boundary; their documents are read from S3.
    """
    require_buyer(caller)
    if status is not None and status not in STATUSES:
        raise ValidationFailedError.of_field("status", f"one of {', '.join(sorted(STATUSES))}", "enum")
    start = _decode_cursor(caller, cursor, status)
    index = OrderRow.by_user_status if status else OrderRow.by_user
    partition = user_status(caller.user_id, status) if status else caller.user_id
    page = index.query(partition, scan_index_forward=False, limit=size, last_evaluated_key=start)
    rows = list(page)
    archived_keys = [archive.archive_key(r.user_id, r.created_at, r.order_id) for r in rows if r.sk == ARCHIVED]
    documents = dict(zip(archived_keys, archive.read_all(archived_keys), strict=True))
    views = [
        archived_view(documents[archive.archive_key(r.user_id, r.created_at, r.order_id)]) if r.sk == ARCHIVED
        else view(r)
        for r in rows
    ]  # fmt: skip
    end = page.last_evaluated_key
    return OrderPage(orders=views, next_cursor=_encode_cursor(end) if end else None)


def archived_view(document: dict[str, Any]) -> OrderView:
    """An archived order's document (shop.orders.archive) as the buyer reads it."""
    totals = document.get("totals") or {}
    return OrderView(
        order_id=document["orderId"], user_id=document["userId"], status=document["status"],
        reason=document.get("reason"), amount=int(document["amount"]), currency=document["currency"],
        payment_id=document["paymentId"], payment_status=document["paymentStatus"],
        payment_txn_id=document.get("paymentTxnId"), card_last4=document["cardLast4"],
        lines=[LineView(item_id=x["itemId"], variant_id=x["variantId"], quantity=int(x["quantity"]),
                        unit_price=int(x["unitPrice"]), name=x["name"]) for x in document.get("lines", [])],
        totals=TotalsView(**{k: int(v) for k, v in totals.items() if k in ("subtotal", "tax", "shipping", "total")}),
        address=document.get("address"), created_at=document["createdAt"], updated_at=document["updatedAt"],
        history=[HistoryView(status=h["status"], at=h["at"], reason=h.get("reason"))
                 for h in document.get("history", [])],
        archived=True,
    )  # fmt: skip


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
    """The caller's live order; another buyer's order answers 404, as if it did not exist (admins included)."""
    require_buyer(caller)
    if not is_id(order_id, ORDER_ID_PREFIX):
        raise OrderNotFoundError(details={"orderId": order_id})
    order = load(order_id)
    _check_owner(caller, order_id, order.user_id)
    return order


def _check_owner(caller: Caller, order_id: str, owner: str) -> None:
    if owner != caller.user_id:
        raise OrderNotFoundError(details={"orderId": order_id})  # never reveal other buyers' orders


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(caller: Caller, cursor: str | None, status: str | None) -> dict[str, Any] | None:
    """The index key a page starts after; only a cursor of this caller's list of this status is accepted."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        # The key of the index the list reads: byUser's names the buyer, byUserStatus's the buyer and status.
        name, value = ("userStatus", user_status(caller.user_id, status)) if status else ("userId", caller.user_id)
        if key[name]["S"] != value:
            raise ValueError("not a cursor of this list")
        return dict(key)
    except (ValueError, KeyError, TypeError):
        raise ValidationFailedError.of_field("cursor", "not a cursor from this list", "invalid") from None
