"""Every order status move against moto's DynamoDB: allowed from exactly the statuses the table names,
refused (nothing written) from every other, each move recorded once in the history."""

from __future__ import annotations

import itertools

from shop import checkout, orders
from shop.orders.tables import ORDER, HistoryEntry, OrderRow

ALL = sorted(orders.STATUSES)
ALLOWED = {
    ("PENDING", "CREATED"), ("PENDING", "REJECTED"), ("CREATED", "CONFIRMED"),
    ("PENDING", "PAYMENT_FAILED"), ("CREATED", "PAYMENT_FAILED"), ("PENDING", "EXPIRED"), ("CREATED", "EXPIRED"),
    ("PENDING", "CANCELLED"), ("CREATED", "CANCELLED"), ("CONFIRMED", "CANCELLED"), ("CONFIRMED", "SHIPPED"),
}  # fmt: skip


def order_in(status: str, order_id: str = "ord_1") -> None:
    OrderRow(
        order_id, ORDER, user_id="u1", cart_id="cart_u1", status=status, payment_status="PENDING",
        payment_id="pay_1", card_token="tok", card_last4="4242", amount=100, currency="USD",
        totals={"subtotal": 100, "tax": 0, "shipping": 0, "total": 100}, lines=[], created_at="t", updated_at="t",
        history=[HistoryEntry(status=status, at="t")],  # type: ignore[no-untyped-call]
    ).save()  # fmt: skip


def test_the_table_is_the_one_the_code_enforces() -> None:
    assert {(before, after) for after, befores in orders.ALLOWED_FROM.items() for before in befores} == ALLOWED
    assert all(not any(before == t for before, _ in ALLOWED) for t in orders.TERMINAL)  # nothing leaves a terminal


def test_every_move_allowed_or_refused_as_the_table_says(tables) -> None:
    # One table for all pairs (a fresh moto per pair would cost a second each): one order per pair.
    for n, (before, after) in enumerate(itertools.product(ALL, [s for s in ALL if s != "PENDING"])):
        order_id = f"ord_{n}"
        order_in(before, order_id)
        moved = orders.transition(order_id, after, reason="WHY")
        row = orders.load(order_id)
        if (before, after) in ALLOWED:
            assert moved and row.status == after, (before, after)
            assert [(h.status, h.reason) for h in row.history] == [(before, None), (after, "WHY")]
        else:
            assert not moved and row.status == before, (before, after)
            assert [h.status for h in row.history] == [before]


def test_racing_terminal_moves_only_the_first_wins(tables) -> None:
    order_in("CREATED")
    assert orders.transition("ord_1", "EXPIRED", reason="PAYMENT_WINDOW_ELAPSED")
    assert not orders.transition("ord_1", "EXPIRED", reason="PAYMENT_WINDOW_ELAPSED")  # the saga's timeout, late
    assert not orders.transition("ord_1", "CONFIRMED")
    assert not orders.transition("ord_1", "PAYMENT_FAILED", reason="DECLINED")
    history = [h.status for h in orders.load("ord_1").history]
    assert history == ["CREATED", "EXPIRED"]


def test_expire_only_ends_orders_waiting_for_payment(tables) -> None:
    order_in("CONFIRMED", "ord_2")
    assert not checkout.expire_order("ord_2")
    assert orders.load("ord_2").status == "CONFIRMED"
    order_in("CREATED", "ord_3")
    assert checkout.expire_order("ord_3")
    assert not checkout.expire_order("ord_3")  # a redelivered TTL record changes nothing
    row = orders.load("ord_3")
    assert (row.status, row.reason) == ("EXPIRED", "PAYMENT_WINDOW_ELAPSED")
