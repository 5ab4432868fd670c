"""DynamoDB busy is not a refusal (issue 11, gap 2): a saga step whose transaction collided with another, or
was throttled, raises StoreBusy, which the state machine retries, instead of failing or refunding the
order. The collision is answered by DynamoDB's own error body, ahead of moto, on the one connection that
runs the shop's transactions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from shop import cart, inventory, orders
from shop.checkout import run_step
from shop.checkout.saga import OrderNoLongerPending
from shop.dynamodb import ProvisionedThroughputExceededException, StoreBusy, ThrottlingException, _connection
from shop.ids import new_id
from shop.inventory.tables import Stock
from tests.unit.checkout.test_unwind import BUYER, placed
from tests.unit.shop.apigw_events import ROOT


def _conflict(params: dict[str, Any], code: str = "TransactionConflict") -> tuple[AWSResponse, dict[str, Any]]:
    """What DynamoDB answers a transaction that collided with another (or whose last item's partition
    throttled: code ThrottlingError): one reason per action."""
    actions = len(json.loads(params["body"])["TransactItems"])
    reasons = [{"Code": "None"}] * (actions - 1) + [{"Code": code, "Message": "Transaction is ongoing"}]
    parsed = {"Error": {"Code": "TransactionCanceledException",
                        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons"},
              "CancellationReasons": reasons, "ResponseMetadata": {"HTTPStatusCode": 400}}  # fmt: skip
    return AWSResponse("http://dynamodb", 400, {}, None), parsed


@pytest.fixture
def collide() -> Iterator[Callable[[int], list[str]]]:
    """collide(n): the next n TransactWriteItems collide with another transaction and write nothing;
    returns what was answered. (before-call answers instead of sending: moto answers every before-send.)"""
    events = _connection().client.meta.events
    answered: list[str] = []
    remaining = [0]
    code = ["TransactionConflict"]

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if remaining[0] <= 0:
            return None
        remaining[0] -= 1
        answered.append(code[0])
        return _conflict(params, code[0])

    def arm(times: int, reason: str = "TransactionConflict") -> list[str]:
        remaining[0], code[0] = times, reason
        return answered

    events.register_first("before-call.dynamodb.TransactWriteItems", answer)
    yield arm
    events.unregister("before-call.dynamodb.TransactWriteItems", answer)


def pending_order() -> str:
    """An order as POST /checkout leaves it: PENDING, nothing reserved yet."""
    order_id = new_id(orders.ORDER_ID_PREFIX)
    Stock("itm_1", "default", available=10, updated_at="t").save()
    orders.new_order(
        order_id=order_id, user_id=BUYER.user_id, cart_id="cart_1", amount=100, currency="USD",
        lines=[cart.CheckoutLine("itm_1", "default", 2, 50, "Mug")],
        totals={"subtotal": 100, "tax": 0, "shipping": 0, "total": 100}, card_token="tok", card_last4="4242",
    )  # fmt: skip
    return order_id


def test_a_reservation_that_collided_is_retried_not_rejected(tables, collide):
    order_id = pending_order()
    answered = collide(1)
    with pytest.raises(StoreBusy, match="TransactWriteError"):
        run_step({"action": "reserve_inventory", "orderId": order_id})
    assert answered == ["TransactionConflict"]
    assert inventory.reservation_status(order_id) is None and orders.load(order_id).status == "PENDING"
    answer = run_step({"action": "reserve_inventory", "orderId": order_id})  # the retry
    assert answer["reserved"] and answer["rows"] == [{"itemId": "itm_1", "variantId": "default", "quantity": 2,
                                                      "shard": 0}]  # fmt: skip
    assert int(Stock.get("itm_1", "default").reserved) == 2
    assert orders.load(order_id).status == "CREATED"  # in the reservation's own transaction


def test_a_throttled_reservation_is_named_as_dynamodb_names_it_and_retried(tables, collide):
    order_id = pending_order()
    collide(1, "ThrottlingError")  # the stock row's partition throttled: a transaction item's reason
    with pytest.raises(ThrottlingException) as throttled:
        run_step({"action": "reserve_inventory", "orderId": order_id})
    assert isinstance(throttled.value, StoreBusy)  # busy, never a refusal
    assert inventory.reservation_status(order_id) is None and orders.load(order_id).status == "PENDING"
    collide(1, "ProvisionedThroughputExceeded")
    with pytest.raises(ProvisionedThroughputExceededException):
        run_step({"action": "reserve_inventory", "orderId": order_id})
    assert run_step({"action": "reserve_inventory", "orderId": order_id})["reserved"]
    assert orders.load(order_id).status == "CREATED"


def test_a_retried_reservation_that_had_succeeded_changes_nothing(tables):
    order_id = pending_order()
    first = run_step({"action": "reserve_inventory", "orderId": order_id})
    again = run_step({"action": "reserve_inventory", "orderId": order_id})  # its answer was lost: retried
    assert first["rows"] and again == {"reserved": True, "userId": BUYER.user_id, "rows": None}
    assert int(Stock.get("itm_1", "default").reserved) == 2
    assert [h.status for h in orders.load(order_id).history] == ["PENDING", "CREATED"]


def test_creating_the_order_that_collided_is_retried_not_ended(tables, collide):
    """CreateOrder of an execution started before ReserveInventory moved the order itself."""
    order_id = pending_order()
    inventory.reserve(order_id, [inventory.StockLine("itm_1", "default", 2)], only_while=orders.while_pending(order_id))
    collide(1)
    with pytest.raises(StoreBusy) as busy:
        run_step({"action": "create_order", "orderId": order_id})
    assert not isinstance(busy.value.__cause__, OrderNoLongerPending)  # not "the order was cancelled"
    assert orders.load(order_id).status == "PENDING"
    assert run_step({"action": "create_order", "orderId": order_id}) == {"status": "CREATED"}


def test_a_confirmation_that_collided_is_retried_never_refunded(tables, collide):
    order_id = placed("4242")  # paid: CAPTURED, stock reserved, order CREATED
    collide(1)
    with pytest.raises(StoreBusy) as busy:
        run_step({"action": "confirm_order", "orderId": order_id})
    assert not isinstance(busy.value.__cause__, OrderNoLongerPending)  # which would refund a paid order
    order = orders.load(order_id)
    assert (order.status, inventory.reservation_status(order_id)) == ("CREATED", "RESERVED")
    assert run_step({"action": "confirm_order", "orderId": order_id}) == {"status": "CONFIRMED"}
    assert (orders.load(order_id).status, inventory.reservation_status(order_id)) == ("CONFIRMED", "COMMITTED")


def test_every_saga_task_retries_store_busy_with_jitter_before_anything_catches_it():
    states = json.loads((ROOT / "statemachines" / "checkout.asl.json").read_text())["States"]
    for name, state in states.items():
        if state["Type"] != "Task":
            continue
        busy = [r for r in state["Retry"] if "StoreBusy" in r["ErrorEquals"] or r["ErrorEquals"] == ["States.ALL"]]
        assert busy, f"{name} does not retry StoreBusy"
        assert busy[0]["JitterStrategy"] == "FULL" and busy[0]["MaxAttempts"] >= 6, name
        assert all(r["JitterStrategy"] == "FULL" for r in state["Retry"]), name


THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException"}


def _worst_case_seconds(retrier: dict[str, Any]) -> float:
    """The longest a retrier waits in all (full jitter waits a random part of each of these delays)."""
    delays = [retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n for n in range(retrier["MaxAttempts"])]
    return sum(min(delay, retrier.get("MaxDelaySeconds", delay)) for delay in delays)


def test_the_stock_steps_retry_throttling_longer_within_the_payment_window():
    """ReserveInventory and ConfirmOrder write the stock rows, the hot partitions of a flash sale: a throttled
    one waits its turn (up to minutes) instead of unwinding the order after StoreBusy's ~47 s; every other
    task retries the throttling names like StoreBusy (a name no Retry matches would be caught as a failure)."""
    states = json.loads((ROOT / "statemachines" / "checkout.asl.json").read_text())["States"]
    for name in ("ReserveInventory", "ConfirmOrder"):
        first = states[name]["Retry"][0]
        assert set(first["ErrorEquals"]) == THROTTLED and first["JitterStrategy"] == "FULL", name
        busy = next(r for r in states[name]["Retry"] if "StoreBusy" in r["ErrorEquals"])
        assert _worst_case_seconds(busy) < _worst_case_seconds(first) < 300, name  # PaymentWindowSeconds' default
    for name, state in states.items():
        for retrier in state.get("Retry", []):
            if "StoreBusy" in retrier["ErrorEquals"]:
                assert set(retrier["ErrorEquals"]) >= THROTTLED or any(
                    set(r["ErrorEquals"]) == THROTTLED for r in state["Retry"]), name  # fmt: skip
