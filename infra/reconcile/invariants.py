"""The shop's invariants over its stored rows, as pure functions of decoded DynamoDB items (no I/O).

The names of statuses and event types are the shop's data contract (layers/shop/python/shop: inventory.stock,
orders.lifecycle and orders.events, payments.charges); they are repeated here rather than imported so the
checker reads a stack's tables as they are, without the layer's configuration, and can check any deployed
version of it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from infra.reconcile.report import Check

Row = Mapping[str, Any]

# Reservation rows (OrdersTable, sk RESERVATION).
RESERVED, COMMITTED, RELEASED, RETURNED = "RESERVED", "COMMITTED", "RELEASED", "RETURNED"
# Order rows (OrdersTable, sk ORDER).
PENDING, CREATED, CONFIRMED, SHIPPED = "PENDING", "CREATED", "CONFIRMED", "SHIPPED"
ENDED_UNPAID = frozenset({"REJECTED", "PAYMENT_FAILED", "EXPIRED", "CANCELLED"})
TERMINAL = ENDED_UNPAID | {SHIPPED}
WAITING_FOR_PAYMENT = frozenset({PENDING, CREATED})
PAID = frozenset({CONFIRMED, SHIPPED})
# Payment rows: money is held in CAPTURED; these states hold it (or may) for a moment while the provider is
# asked, and must not outlast an ended order by more than the slack.
CAPTURED = "CAPTURED"
IN_FLIGHT = frozenset({"PROCESSING", "REQUIRES_CONFIRMATION", "CHARGING", "CONFIRMING", "REFUNDING", "VOIDING"})
# An order's status -> the event its change publishes (shop.orders.events.ORDER_EVENTS).
ORDER_EVENT_TYPES: Mapping[str, str] = {
    "CREATED": "OrderCreated", "CONFIRMED": "OrderConfirmed", "EXPIRED": "OrderExpired",
    "CANCELLED": "OrderCancelled", "REJECTED": "OrderRejected", "PAYMENT_FAILED": "OrderPaymentFailed",
    "SHIPPED": "OrderShipped",
}  # fmt: skip
ORDER_EVENT_SOURCE = "shop.orders"


@dataclass(frozen=True)
class Rules:
    now: datetime
    payment_window: timedelta  # PaymentWindowSeconds of the stack
    slack: timedelta  # how long a step in flight (an unwind, a publish) may take before it counts as stuck


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _order_key(order_id: str) -> str:
    return f"order {order_id}"


# ---------------------------------------------------------------- stock
def check_stock(stock: Sequence[Row], reservations: Sequence[Row]) -> list[Check]:
    """Per SKU: no negative count; reserved = units of RESERVED reservations; sold = units of COMMITTED ones;
    available + reserved + sold = units stocked (onboarding plus restocks: the row's `stocked`, where kept)."""
    held, sold = _units_of(reservations, RESERVED), _units_of(reservations, COMMITTED)
    non_negative = Check("stock counts are never negative", unit="stock rows")
    reserved_matches = Check("stock reserved = units of RESERVED reservations", unit="stock rows")
    sold_matches = Check("stock sold = units of COMMITTED reservations", unit="stock rows")
    conserved = Check("stock available + reserved + sold = units stocked", unit="stock rows")
    unrecorded = 0
    seen: set[tuple[str, str]] = set()
    for row in stock:
        key = (str(row["itemId"]), str(row["variantId"]))
        seen.add(key)
        where = f"stock {key[0]}/{key[1]}"
        counts = {name: _int(row.get(name)) for name in ("available", "reserved", "sold")}
        for check in (non_negative, reserved_matches, sold_matches):
            check.checked += 1
        unrecorded += not _check_conserved(conserved, where, counts, row.get("stocked"))
        negative = {name: count for name, count in counts.items() if count < 0}
        if negative:
            non_negative.violation(where, ", ".join(f"{name} is {count}" for name, count in negative.items()))
        if counts["reserved"] != held.get(key, 0):
            reserved_matches.violation(
                where, f"reserved is {counts['reserved']} but RESERVED reservations hold {held.get(key, 0)}"
            )
        if counts["sold"] != sold.get(key, 0):
            sold_matches.violation(
                where, f"sold is {counts['sold']} but COMMITTED reservations sold {sold.get(key, 0)}"
            )
    for key in sorted(set(held) - seen):
        reserved_matches.violation(f"stock {key[0]}/{key[1]}", f"no stock row, yet reservations hold {held[key]}")
    for key in sorted(set(sold) - seen):
        sold_matches.violation(f"stock {key[0]}/{key[1]}", f"no stock row, yet reservations sold {sold[key]}")
    if unrecorded:
        conserved.note = f"{unrecorded} older rows keep no count of units stocked and are not checked"
    return [non_negative, reserved_matches, sold_matches, conserved]


def _units_of(reservations: Sequence[Row], status: str) -> dict[tuple[str, str], int]:
    """Units per stock row (item, variant) over the reservations in `status`; a line taken from a hot variant's
    stock shard n (its `shard`) counts on that shard's row, whose item id is "itemId#n"."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    for reservation in reservations:
        if str(reservation.get("status")) == status:
            for line in reservation.get("lines") or []:
                shard = _int(line.get("shard"))
                item = f"{line['itemId']}#{shard}" if shard else str(line["itemId"])
                units[(item, str(line["variantId"]))] += _int(line.get("quantity"))
    return units


def _check_conserved(conserved: Check, where: str, counts: dict[str, int], stocked: Any) -> bool:
    """available + reserved + sold against the units stocked; False when the row keeps no such count (it was
    written before rows kept `stocked`)."""
    if stocked is None:
        return False
    conserved.checked += 1
    total = sum(counts.values())
    if total != _int(stocked):
        conserved.violation(where, f"available + reserved + sold is {total} but {_int(stocked)} units were stocked")
    return True


# ---------------------------------------------------------------- orders, payments, reservations
def check_orders(
    orders: Sequence[Row], reservations: Sequence[Row], payments: Sequence[Row], rules: Rules
) -> list[Check]:
    """Each order's status against its window, its payment and its reservation; each capture against its order."""
    reservation_of = {str(row["orderId"]): row for row in reservations}
    payment_of = {str(row["orderId"]): row for row in payments if row.get("orderId") is not None}
    order_of = {str(row["orderId"]): row for row in orders}

    legal = Check(
        "every order is ended, CONFIRMED, or waiting for payment within its window", unit="orders",
        note=f"window {rules.payment_window.total_seconds():g} s + slack {rules.slack.total_seconds():g} s",
    )  # fmt: skip
    paid_sold = Check("CONFIRMED/SHIPPED orders have a CAPTURED payment and a COMMITTED reservation", unit="orders")
    ended_clean = Check("ended unpaid orders hold no stock and no money", unit="orders")
    for order_id, order in sorted(order_of.items()):
        reservation, payment = reservation_of.get(order_id), payment_of.get(order_id)
        holds = (
            None if reservation is None else str(reservation.get("status")),
            None if payment is None else str(payment.get("status")),
        )
        _check_status(legal, order, rules)
        if order.get("status") in PAID:
            _check_paid(paid_sold, order, *holds)
        elif order.get("status") in ENDED_UNPAID:
            _check_ended(ended_clean, order, *holds, rules)
    return [legal, paid_sold, ended_clean, _check_captures(payments, order_of, rules)]


def _check_status(check: Check, order: Row, rules: Rules) -> None:
    check.checked += 1
    status, created = str(order.get("status")), parse_time(order.get("createdAt"))
    if status in WAITING_FOR_PAYMENT:
        if created is None or rules.now - created > rules.payment_window + rules.slack:
            check.violation(_order_key(order["orderId"]), f"still {status} since {order.get('createdAt')}, "
                            "past its payment window")  # fmt: skip
    elif status not in TERMINAL and status != CONFIRMED:
        check.violation(_order_key(order["orderId"]), f"unknown status {status!r}")


def _check_paid(check: Check, order: Row, reservation: str | None, payment: str | None) -> None:
    check.checked += 1
    where, status = _order_key(order["orderId"]), order.get("status")
    if payment != CAPTURED:
        check.violation(where, f"{status} but its payment is {payment or 'missing'}")
    if reservation != COMMITTED:
        check.violation(where, f"{status} but its reservation is {reservation or 'missing'}")


def _check_ended(check: Check, order: Row, reservation: str | None, payment: str | None, rules: Rules) -> None:
    check.checked += 1
    updated = parse_time(order.get("updatedAt"))
    if updated is not None and rules.now - updated <= rules.slack:
        return  # ended a moment ago: the unwind (payment, then stock, then the order) may still be running
    where, status = _order_key(order["orderId"]), order.get("status")
    if reservation not in (None, RELEASED, RETURNED):
        check.violation(where, f"{status} but its reservation is still {reservation} (stock held)")
    if payment == CAPTURED:
        check.violation(where, f"{status} but its payment is still CAPTURED (money held)")
    elif payment in IN_FLIGHT and rules.now - (updated or rules.now) > rules.payment_window + rules.slack:
        # A charge that raced the cancel or expiry ends when the saga's own wait times out: the payment window.
        check.violation(where, f"{status} since {order.get('updatedAt')} but its payment is still {payment}")


def _check_captures(payments: Sequence[Row], order_of: Mapping[str, Row], rules: Rules) -> Check:
    check = Check("every CAPTURED payment belongs to a CONFIRMED/SHIPPED order", unit="payments")
    for payment in sorted(payments, key=lambda row: str(row.get("paymentId"))):
        if payment.get("status") != CAPTURED:
            continue
        check.checked += 1
        where = f"payment {payment.get('paymentId')}"
        order = order_of.get(str(payment.get("orderId")))
        if order is None:
            check.violation(where, f"CAPTURED for order {payment.get('orderId')}, which does not exist")
            continue
        status, updated = str(order.get("status")), parse_time(payment.get("updatedAt"))
        # Captured a moment ago: the saga confirms the order next. An ended order is reported by _check_ended.
        confirming = status == CREATED and updated is not None and rules.now - updated <= rules.slack
        if status in WAITING_FOR_PAYMENT and not confirming:
            check.violation(where, f"CAPTURED but order {order.get('orderId')} is still {status}")
    return check


# ---------------------------------------------------------------- events
@dataclass(frozen=True)
class EventMismatch:
    order_id: str
    event_type: str
    expected: int  # 0 or 1
    published: int


def expected_order_events(orders: Iterable[Row]) -> Counter[tuple[str, str]]:
    """(order id, event type) for every status change after PENDING in each order's history, once each."""
    expected: Counter[tuple[str, str]] = Counter()
    for order in orders:
        for entry in order.get("history") or []:
            event_type = ORDER_EVENT_TYPES.get(str(entry.get("status")))
            if event_type is not None:
                expected[(str(order["orderId"]), event_type)] += 1
    return expected


def published_order_events(events: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str]]:
    """(order id, event type) of each order event on the bus, counted once per distinct event id.

    The outbox derives an event's id from the stream record that caused it, so a redelivery is the same
    event again. EventBridge delivers at least once, and no outbox can put an event on the bus and record
    that it did in one step: a publisher cut off between the two publishes the same id again. Consumers
    deduplicate on the id, so the promise is one event id per status change (`redeliveries` counts the rest).
    """
    published: Counter[tuple[str, str]] = Counter()
    for key in _order_event_ids(events):
        published[key[:2]] += 1
    return published


def redeliveries(events: Iterable[Mapping[str, Any]]) -> int:
    """How many order events were put on the bus again under an id already published."""
    ids = _order_event_ids(events)
    return sum(ids.values()) - len(ids)


def _order_event_ids(events: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str, str]]:
    ids: Counter[tuple[str, str, str]] = Counter()
    types = set(ORDER_EVENT_TYPES.values())
    for event in events:
        if event.get("detail-type") not in types or event.get("source") != ORDER_EVENT_SOURCE:
            continue
        detail = event.get("detail")
        data = detail.get("data") if isinstance(detail, Mapping) else None
        if isinstance(data, Mapping) and data.get("orderId"):
            event_id = str(detail.get("id") or event.get("id") or id(event))  # type: ignore[union-attr]
            ids[(str(data["orderId"]), str(event["detail-type"]), event_id)] += 1
    return ids


def event_mismatches(
    expected: Counter[tuple[str, str]], published: Counter[tuple[str, str]], orders: Iterable[str] | None = None
) -> list[EventMismatch]:
    """Every (order, type) not published as exactly one event id: missing (0), two ids (>1), or published without
    the status change (for the orders given; events of orders that no longer exist are not judged)."""
    known = set(orders) if orders is not None else {order_id for order_id, _ in expected}
    keys = set(expected) | {key for key in published if key[0] in known}
    return [
        EventMismatch(order_id, event_type, expected[(order_id, event_type)], published[(order_id, event_type)])
        for order_id, event_type in sorted(keys)
        if published[(order_id, event_type)] != 1 or expected[(order_id, event_type)] != 1
    ]


def describe_mismatch(mismatch: EventMismatch) -> str:
    if mismatch.published == 0:
        return f"{mismatch.event_type} was never published"
    if mismatch.expected == 0:
        return f"{mismatch.event_type} published {mismatch.published} time(s) without that status change"
    return f"{mismatch.event_type} published as {mismatch.published} different events"


# ---------------------------------------------------------------- the order archive
ONE_PLACE_CHECK = "every order is in exactly one place (live table or archive)"


def check_one_place(
    live: Iterable[str], archived: Mapping[str, str], index_entries: Mapping[str, str], referenced: Iterable[str]
) -> Check:
    """Each order is either a live row (sk ORDER) or an archived object (orders/.../<orderId>.jsonl), never
    both and never neither; an archived order has its index entry (sk ARCHIVED) pointing at its object.

    `live`: the ids of the ORDER rows; `archived`: order id -> archive object key; `index_entries`: order id
    -> the key its ARCHIVED entry names; `referenced`: order ids other rows name (reservations, payments),
    which must each be an order somewhere.
    """
    check = Check(ONE_PLACE_CHECK, unit="orders")
    in_table = set(live)
    for order_id in sorted(in_table | set(archived) | set(index_entries) | set(referenced)):
        check.checked += 1
        where, key = _order_key(order_id), archived.get(order_id)
        if order_id in in_table and key is not None:
            check.violation(where, f"both in the Orders table and in the archive ({key})")
        elif order_id not in in_table and key is None:
            check.violation(where, "in neither the Orders table nor the archive (a failed archival not replayed "
                            "yet? `python -m infra replay-archive`)")  # fmt: skip
        entry = index_entries.get(order_id)
        if entry is not None and entry != key:
            check.violation(where, f"its archive index entry names {entry}, which is not its archived object")
        elif key is not None and entry is None:
            check.violation(where, f"archived ({key}) but not in the archive index: GET /orders cannot find it")
    return check
