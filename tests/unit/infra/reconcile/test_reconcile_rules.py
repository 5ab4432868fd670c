"""The invariant checker's pure parts: the Luhn scan for card numbers, matching each order's status changes
to the events on the bus, and the stock and order rules over plain rows."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from infra.reconcile import cards, invariants
from infra.reconcile.invariants import EventMismatch, Rules
from infra.reconcile.report import Violation

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RULES = Rules(now=NOW, payment_window=timedelta(seconds=300), slack=timedelta(seconds=30))


# ---------------------------------------------------------------- card numbers
@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("4242424242424242", ["************4242"]),
        ("card 4242 4242 4242 4242 ok", ["************4242"]),
        ("4111-1111-1111-1111", ["************1111"]),
        ("378282246310005", ["***********0005"]),  # 15-digit Amex
        ("4242424242424241", []),  # fails Luhn
        ("424242424242", []),  # 12 digits: too short
        ("42424242424242424242", []),  # 20 digits: too long
        ("4242  4242 4242 4242", []),  # two spaces break the run
        ("1764417600004", []),  # epoch milliseconds (2025-11-29) that happen to pass Luhn are times
        ("4222222222222", ["*********2222"]),  # 13 digits that are no time of this century
        ("2026-11-29T12:00:00Z ord_01JD0000000000000000000000 last4 4242", []),
        ("RequestId: 3e5b8d2a-1234-4567-8901-234567896960 Version", []),  # a UUID's digits are no card
        ("sha256 ab4242424242424242cd", []),  # digits inside a word (a hex digest)
        ("card:4242424242424242.", ["************4242"]),
    ],
)
def test_card_numbers_are_luhn_valid_runs_of_13_to_19_digits(text: str, found: list[str]) -> None:
    assert cards.luhn_valid("1764417600004")  # the epoch case above is excluded for being a time, not by Luhn
    assert cards.card_numbers(text) == found


def test_a_decoded_item_is_walked_and_each_finding_says_where() -> None:
    item = {
        "orderId": "ord_1", "amount": Decimal(1999), "flag": True,
        "lines": [{"name": "Mouse"}, {"name": "paid with 5555 5555 5555 4444"}],
        "raw": Decimal("4012888888881881"), "tags": {"4000056655665556"},
    }  # fmt: skip
    found = sorted((finding.path, finding.masked) for finding in cards.scan_value(item))
    assert found == [
        ("lines[1].name", "************4444"),
        ("raw", "************1881"),
        ("tags[0]", "************5556"),
    ]


# ---------------------------------------------------------------- events
def order(order_id: str, *statuses: str, **fields: object) -> dict[str, object]:
    return {"orderId": order_id, "status": statuses[-1], "history": [{"status": s} for s in statuses], **fields}


def event(order_id: str, detail_type: str, source: str = "shop.orders", event_id: str = "") -> dict[str, object]:
    return {
        "detail-type": detail_type,
        "source": source,
        "detail": {"id": event_id or f"{order_id}-{detail_type}-{uuid.uuid4()}", "type": detail_type,
                   "data": {"orderId": order_id}},
    }  # fmt: skip


def test_each_status_change_after_pending_is_expected_once() -> None:
    expected = invariants.expected_order_events([order("o1", "PENDING", "CREATED", "CONFIRMED", "SHIPPED")])
    assert expected == Counter({("o1", "OrderCreated"): 1, ("o1", "OrderConfirmed"): 1, ("o1", "OrderShipped"): 1})


def test_missing_duplicated_and_unexplained_events_are_mismatches() -> None:
    orders = [order("o1", "PENDING", "CREATED", "CONFIRMED"), order("o2", "PENDING", "CREATED", "CANCELLED")]
    published = invariants.published_order_events([
        event("o1", "OrderCreated"), event("o1", "OrderConfirmed"), event("o1", "OrderConfirmed"),
        event("o2", "OrderCreated"), event("o2", "OrderShipped"),
        event("o2", "OrderCancelled", source="someone.else"),  # not the shop's: not counted
        event("o9", "OrderCreated"),  # an order not in the tables: not judged
        {"detail-type": "InventoryReserved", "source": "shop.orders", "detail": {"data": {"orderId": "o1"}}},
    ])  # fmt: skip
    mismatches = invariants.event_mismatches(invariants.expected_order_events(orders), published, ["o1", "o2"])
    assert mismatches == [
        EventMismatch("o1", "OrderConfirmed", expected=1, published=2),
        EventMismatch("o2", "OrderCancelled", expected=1, published=0),
        EventMismatch("o2", "OrderShipped", expected=0, published=1),
    ]
    assert [invariants.describe_mismatch(m) for m in mismatches] == [
        "OrderConfirmed published as 2 different events",
        "OrderCancelled was never published",
        "OrderShipped published 1 time(s) without that status change",
    ]


def test_a_redelivered_event_id_is_one_event() -> None:
    # The outbox put the same event on the bus twice (cut off between PutEvents and recording it):
    # consumers deduplicate on the id, so it is one event, and the redelivery is counted apart.
    events = [event("o1", "OrderCreated", event_id="e1"), event("o1", "OrderCreated", event_id="e1")]
    published = invariants.published_order_events(events)
    expected = invariants.expected_order_events([order("o1", "PENDING", "CREATED")])
    assert invariants.event_mismatches(expected, published, ["o1"]) == []
    assert invariants.redeliveries(events) == 1


# ---------------------------------------------------------------- stock and orders
def test_stock_is_reconciled_with_the_reservations() -> None:
    stock = [
        {"itemId": "i1", "variantId": "default", "available": Decimal(5), "reserved": Decimal(2), "sold": Decimal(3),
         "stocked": Decimal(10)},
        {"itemId": "i2", "variantId": "RD", "available": Decimal(-1)},  # no reserved/sold: read as 0
        {"itemId": "i4", "variantId": "default", "available": Decimal(4), "reserved": Decimal(0), "sold": Decimal(0),
         "stocked": Decimal(5)},  # a unit vanished
    ]  # fmt: skip
    reservations = [
        {"orderId": "o1", "status": "RESERVED", "lines": [{"itemId": "i1", "variantId": "default", "quantity": 2}]},
        {"orderId": "o2", "status": "COMMITTED", "lines": [{"itemId": "i1", "variantId": "default", "quantity": 2}]},
        {"orderId": "o3", "status": "RELEASED", "lines": [{"itemId": "i1", "variantId": "default", "quantity": 9}]},
        {"orderId": "o4", "status": "RESERVED", "lines": [{"itemId": "i3", "variantId": "default", "quantity": 1}]},
    ]
    checks = {check.name: check for check in invariants.check_stock(stock, reservations)}
    assert checks["stock counts are never negative"].violations == [Violation("stock i2/RD", "available is -1")]
    assert checks["stock reserved = units of RESERVED reservations"].violations == [
        Violation("stock i3/default", "no stock row, yet reservations hold 1")
    ]
    assert checks["stock sold = units of COMMITTED reservations"].violations == [
        Violation("stock i1/default", "sold is 3 but COMMITTED reservations sold 2")
    ]
    conserved = checks["stock available + reserved + sold = units stocked"]
    assert conserved.violations == [
        Violation("stock i4/default", "available + reserved + sold is 4 but 5 units were stocked")
    ]
    assert (
        conserved.checked == 2 and conserved.note == "1 older rows keep no count of units stocked and are not checked"
    )


def iso(ago_seconds: float) -> str:
    return (NOW - timedelta(seconds=ago_seconds)).isoformat().replace("+00:00", "Z")


def test_orders_against_their_window_payment_and_reservation() -> None:
    old, fresh = iso(3600), iso(5)
    orders = [
        order("ok-paid", "PENDING", "CREATED", "CONFIRMED", createdAt=old, updatedAt=old),
        order("ok-waiting", "PENDING", "CREATED", createdAt=iso(100), updatedAt=iso(100)),
        order("stuck", "PENDING", "CREATED", createdAt=iso(400), updatedAt=iso(400)),
        order("unpaid-paid", "PENDING", "CREATED", "CONFIRMED", createdAt=old, updatedAt=old),
        order("holding", "PENDING", "CREATED", "CANCELLED", createdAt=old, updatedAt=old),
        order("unwinding", "PENDING", "CREATED", "CANCELLED", createdAt=old, updatedAt=fresh),
        order("in-flight", "PENDING", "CREATED", "EXPIRED", createdAt=old, updatedAt=old),
        # A charge that raced the cancel waits for the saga's timeout: fine within the payment window.
        order("raced", "PENDING", "CREATED", "CANCELLED", createdAt=iso(120), updatedAt=iso(100)),
    ]
    reservations = [
        {"orderId": "ok-paid", "status": "COMMITTED"}, {"orderId": "unpaid-paid", "status": "RESERVED"},
        {"orderId": "holding", "status": "RESERVED"}, {"orderId": "unwinding", "status": "RESERVED"},
        {"orderId": "in-flight", "status": "RELEASED"},
    ]  # fmt: skip
    payments = [
        {"paymentId": "p1", "orderId": "ok-paid", "status": "CAPTURED", "updatedAt": old},
        {"paymentId": "p2", "orderId": "unpaid-paid", "status": "DECLINED", "updatedAt": old},
        {"paymentId": "p3", "orderId": "holding", "status": "CAPTURED", "updatedAt": old},
        {"paymentId": "p4", "orderId": "unwinding", "status": "CAPTURED", "updatedAt": old},
        {"paymentId": "p5", "orderId": "in-flight", "status": "VOIDING", "updatedAt": old},
        {"paymentId": "p6", "orderId": "stuck", "status": "CAPTURED", "updatedAt": old},
        {"paymentId": "p7", "orderId": "ok-waiting", "status": "CAPTURED", "updatedAt": fresh},  # confirming now
        {"paymentId": "p8", "orderId": "gone", "status": "CAPTURED", "updatedAt": old},
        {"paymentId": "p9", "orderId": "raced", "status": "REQUIRES_CONFIRMATION", "updatedAt": iso(100)},
    ]
    checks = invariants.check_orders(orders, reservations, payments, RULES)
    found = {check.name: [(v.where, v.problem) for v in check.violations] for check in checks}
    assert found == {
        "every order is ended, CONFIRMED, or waiting for payment within its window": [
            ("order stuck", f"still CREATED since {iso(400)}, past its payment window"),
        ],
        "CONFIRMED/SHIPPED orders have a CAPTURED payment and a COMMITTED reservation": [
            ("order unpaid-paid", "CONFIRMED but its payment is DECLINED"),
            ("order unpaid-paid", "CONFIRMED but its reservation is RESERVED"),
        ],
        "ended unpaid orders hold no stock and no money": [
            ("order holding", "CANCELLED but its reservation is still RESERVED (stock held)"),
            ("order holding", "CANCELLED but its payment is still CAPTURED (money held)"),
            ("order in-flight", f"EXPIRED since {old} but its payment is still VOIDING"),
        ],
        "every CAPTURED payment belongs to a CONFIRMED/SHIPPED order": [
            ("payment p6", "CAPTURED but order stuck is still CREATED"),
            ("payment p8", "CAPTURED for order gone, which does not exist"),
        ],
    }


# ---------------------------------------------------------------- the order archive
def test_every_order_is_in_exactly_one_place() -> None:
    key = "orders/user=u1/year=2026/month=11/{}.jsonl".format
    check = invariants.check_one_place(
        live=["live", "both"],
        archived={"archived": key("archived"), "both": key("both"), "unindexed": key("unindexed"),
                  "misindexed": key("misindexed")},
        index_entries={"archived": key("archived"), "both": key("both"), "dangling": key("dangling"),
                       "misindexed": key("other")},
        referenced=["live", "archived", "lost"],
    )  # fmt: skip
    assert check.checked == 7
    found = sorted((v.where, v.problem) for v in check.violations)
    assert found == [
        ("order both", f"both in the Orders table and in the archive ({key('both')})"),
        ("order dangling", "in neither the Orders table nor the archive (a failed archival not replayed yet? "
                           "`python -m infra replay-archive`)"),
        ("order dangling", f"its archive index entry names {key('dangling')}, which is not its archived object"),
        ("order lost", "in neither the Orders table nor the archive (a failed archival not replayed yet? "
                       "`python -m infra replay-archive`)"),
        ("order misindexed", f"its archive index entry names {key('other')}, which is not its archived object"),
        ("order unindexed", f"archived ({key('unindexed')}) but not in the archive index: GET /orders cannot find it"),
    ]  # fmt: skip
