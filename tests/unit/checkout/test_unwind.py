"""The one unwind: the saga's compensations, the buyer's cancel and the TTL expiry undo an order through the
same three steps in the same order (payment, stock, order), against moto's DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shop import cart, checkout, inventory, orders, payments
from shop.checkout.saga import STEPS
from shop.identity import caller_from_claims
from shop.ids import new_id
from shop.inventory.tables import Stock
from shop.orders.tables import HOLD, HoldRow
from tests.unit.shop.apigw_events import BUYER_CLAIMS, ROOT

BUYER = caller_from_claims(BUYER_CLAIMS)
UNWIND = ["void_or_refund", "release", "close"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call of the unwind's three steps and of the order's claim, in order (each still does its work)."""
    seen: list[str] = []
    for module, name in ((payments, "void_or_refund"), (inventory, "release"), (orders, "close"),
                         (orders, "transition")):  # fmt: skip
        real: Callable[..., Any] = getattr(module, name)

        def recorded(*args: Any, _real: Callable[..., Any] = real, _name: str = name, **kwargs: Any) -> Any:
            seen.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)
    return seen


def accepted(last4: str = "4242") -> str:
    """An order as POST /checkout leaves it: PENDING, nothing reserved or charged yet."""
    order_id = new_id(orders.ORDER_ID_PREFIX)
    Stock("itm_1", "default", available=10, updated_at="t").save()
    card = payments.provider().tokenize(f"4111 1111 1111 {last4}")
    orders.new_order(
        order_id=order_id, user_id=BUYER.user_id, cart_id=f"cart_{BUYER.user_id}", amount=100, currency="USD",
        lines=[cart.CheckoutLine("itm_1", "default", 2, 50, "Mug")],
        totals={"subtotal": 100, "tax": 0, "shipping": 0, "total": 100}, card_token=card.token, card_last4=last4,
    )  # fmt: skip
    return order_id


def placed(last4: str = "4242") -> str:
    """An order as the saga leaves it waiting or paid: 2 units reserved, CREATED with its hold, charged."""
    order_id = accepted(last4)
    inventory.reserve(order_id, [inventory.StockLine("itm_1", "default", 2)], only_while=orders.while_pending(order_id))
    orders.create(order_id)
    payments.charge(order_id=order_id, user_id=BUYER.user_id, amount=100, currency="USD",
                    card_token=orders.load(order_id).card_token, card_last4=last4)  # fmt: skip
    return order_id


def undone(order_id: str, status: str, payment: str) -> None:
    order = orders.load(order_id)
    assert (order.status, order.payment_status) == (status, payment)
    assert [h.status for h in order.history].count(status) == 1
    assert int(Stock.get("itm_1", "default").available) == 10
    with pytest.raises(HoldRow.DoesNotExist):
        HoldRow.get(order_id, HOLD)


def compensation_chain() -> list[str]:
    """The actions the state machine runs after a failed payment, in its order (RefundPayment onwards)."""
    states = json.loads((ROOT / "statemachines" / "checkout.asl.json").read_text())["States"]
    actions, name = [], "RefundPayment"
    while states[name]["Type"] == "Task":
        actions.append(states[name]["Parameters"]["action"])
        name = states[name]["Next"]
    return actions


def run_compensations(order_id: str, error: str, cause: str = "retries ran out") -> None:
    """The saga's compensation tasks, in its order, after a step failed with `error`."""
    for action in compensation_chain():
        STEPS[action]({"action": action, "orderId": order_id, "error": {"Error": error, "Cause": cause}})


def test_the_sagas_compensations_are_the_unwind_in_order(tables, calls):
    order_id = placed("4242")
    assert compensation_chain() == ["refund_payment", "release_inventory", "fail_order"]
    run_compensations(order_id, "OrderCancelled", cause="the buyer cancelled")
    assert calls == UNWIND
    undone(order_id, "CANCELLED", "REFUNDED")


def test_a_store_busy_through_every_retry_rejects_a_pending_order_and_says_so(tables):
    order_id = accepted()  # ReserveInventory gave up: nothing reserved, nothing charged
    run_compensations(order_id, "StoreBusy")
    order = orders.load(order_id)
    assert (order.status, order.reason, order.payment_status) == ("REJECTED", "STORE_BUSY", "NOT_CHARGED")
    assert payments.get_payment_row(payments.payment_id_for(order_id)) is None
    assert int(Stock.get("itm_1", "default").available) == 10


def test_an_unnamed_error_after_the_reservation_fails_the_payment_and_undoes_it(tables):
    order_id = placed("4242")  # reserved and charged, then a step crashed through its retries
    run_compensations(order_id, "Lambda.Unknown")
    order = orders.load(order_id)
    assert (order.status, order.reason) == ("PAYMENT_FAILED", "SYSTEM_ERROR")
    undone(order_id, "PAYMENT_FAILED", "REFUNDED")


def test_throttling_after_the_reservation_is_store_busy_too(tables):
    order_id = placed("4242")
    run_compensations(order_id, "ProvisionedThroughputExceededException")
    assert (orders.load(order_id).status, orders.load(order_id).reason) == ("PAYMENT_FAILED", "STORE_BUSY")


def test_cancel_claims_the_order_then_unwinds_in_the_same_order(tables, calls):
    order_id = placed("4242")
    cancelled = checkout.cancel_order(BUYER, order_id)
    assert calls == ["transition", *UNWIND]  # the claim first; close then finds the order claimed
    assert (cancelled.status, cancelled.reason, cancelled.payment_status) == ("CANCELLED", "CANCELLED_BY_BUYER",
                                                                               "REFUNDED")  # fmt: skip
    undone(order_id, "CANCELLED", "REFUNDED")
    calls.clear()
    assert checkout.cancel_order(BUYER, order_id).status == "CANCELLED"  # again: the unwind changes nothing
    undone(order_id, "CANCELLED", "REFUNDED")


def test_expiry_claims_the_order_then_unwinds_in_the_same_order(tables, calls):
    order_id = placed("3220")  # waits for the customer's confirmation, which never comes
    assert checkout.expire_order(order_id)
    assert calls == ["transition", *UNWIND]
    undone(order_id, "EXPIRED", "EXPIRED")
    assert orders.load(order_id).reason == "PAYMENT_WINDOW_ELAPSED"
    calls.clear()
    assert not checkout.expire_order(order_id)  # a repeated TTL record: the claim fails, nothing is undone
    assert calls == ["transition"]


def order_record(order_id: str, old_status: str, new_status: str, reason: str) -> dict[str, Any]:
    """The Orders stream's record of an order's move, as DynamoDB writes it (NEW_AND_OLD_IMAGES)."""

    def image(status: str) -> dict[str, Any]:
        return {"orderId": {"S": order_id}, "sk": {"S": "ORDER"}, "status": {"S": status}, "reason": {"S": reason}}

    return {"eventName": "MODIFY", "eventID": "1",
            "dynamodb": {"Keys": {"orderId": {"S": order_id}, "sk": {"S": "ORDER"}},
                         "OldImage": image(old_status), "NewImage": image(new_status)}}  # fmt: skip


def test_an_unwind_cut_short_after_the_claim_is_finished_from_the_orders_stream(tables, monkeypatch):
    """Cancel claims the order first; if undoing fails after that, the claim's stream record finishes it."""
    order_id = placed("4242")
    real_release = inventory.release

    def down(_: str) -> str | None:
        raise RuntimeError("DynamoDB unavailable")

    monkeypatch.setattr(inventory, "release", down)
    with pytest.raises(RuntimeError):
        checkout.cancel_order(BUYER, order_id)
    assert orders.load(order_id).status == "CANCELLED"  # claimed, refunded, but the stock is still held
    assert inventory.reservation_status(order_id) == "RESERVED"
    monkeypatch.setattr(inventory, "release", real_release)

    ended = orders.ended_early(order_record(order_id, "CREATED", "CANCELLED", "CANCELLED_BY_BUYER"))
    assert ended == orders.EndedOrder(order_id, "CANCELLED", "CANCELLED_BY_BUYER")
    checkout.unwind(ended.order_id, ended.status, ended.reason)
    undone(order_id, "CANCELLED", "REFUNDED")
    checkout.unwind(ended.order_id, ended.status, ended.reason)  # the record delivered again: nothing changes
    undone(order_id, "CANCELLED", "REFUNDED")


def test_only_a_move_into_an_early_end_is_unwound():
    assert orders.ended_early(order_record("ord_1", "CREATED", "CONFIRMED", "")) is None
    assert orders.ended_early(order_record("ord_1", "CANCELLED", "CANCELLED", "x")) is None  # a later update
    assert orders.ended_early({**order_record("ord_1", "PENDING", "EXPIRED", "x"), "eventName": "INSERT"}) is None
    for status in orders.ENDED_EARLY:
        assert orders.ended_early(order_record("ord_1", "CREATED", status, "r")) == orders.EndedOrder(
            "ord_1", status, "r"
        )
