"""Order expiry and fulfilment on the session's quick cloud (a 3-second payment window and a 1-second
fulfilment delay, tests/conftest.py quick_stack): an order whose payment is never confirmed expires (stock
released, payment EXPIRED), the TTL path and the saga's timeout race without a second terminal move, and a
paid order ships."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import QUICK_PAYMENT_WINDOW_SECONDS, Stack
from tests.support.checkout import listed_item, place, wait_order
from tests.support.events import wait_for_event
from tests.support.users import User


@pytest.fixture(scope="module")
def listing(quick_api: httpx.Client) -> str:
    return listed_item(quick_api)


def event_of(stack: Stack, event_type: str, order_id: str) -> dict[str, Any]:
    return wait_for_event(
        stack,
        lambda e: e.get("detail-type") == event_type and e["detail"]["data"].get("orderId") == order_id, timeout=20,
        type=event_type,
    )  # fmt: skip


def test_unconfirmed_payment_expires_once(quick_stack: Stack, quick_api: httpx.Client, listing: str) -> None:
    before = quick_api.get(f"/items/{listing}").json()["available"]
    buyer, accepted = place(quick_api, listing, "3220")  # needs the customer's confirmation: never given
    order_id = accepted["orderId"]
    waiting = wait_order(quick_api, buyer, order_id, {"CREATED"})
    assert quick_api.get(f"/items/{listing}").json()["available"] == before - 2  # reserved while waiting
    order = wait_order(quick_api, buyer, order_id, {"EXPIRED", "CONFIRMED", "PAYMENT_FAILED", "CANCELLED"},
                       timeout=QUICK_PAYMENT_WINDOW_SECONDS + 30)  # fmt: skip
    assert (order["status"], order["reason"]) == ("EXPIRED", "PAYMENT_WINDOW_ELAPSED"), order
    # Both the TTL sweeper and the saga's waitForTaskToken timeout fire around the window's end: whichever
    # came first moved the order, the other found it EXPIRED and wrote nothing.
    deadline = time.monotonic() + 30
    while quick_api.get(f"/orders/{order_id}", headers=buyer.auth).json()["paymentStatus"] != "EXPIRED":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert quick_api.get(f"/items/{listing}").json()["available"] == before
    time.sleep(1)  # let the slower of the two paths finish, then look at the history it must not have touched
    settled = quick_api.get(f"/orders/{order_id}", headers=buyer.auth).json()
    terminal = [h for h in settled["history"] if h["status"] in ("EXPIRED", "CONFIRMED", "PAYMENT_FAILED", "CANCELLED")]
    assert [h["status"] for h in terminal] == ["EXPIRED"], settled["history"]
    assert settled["paymentStatus"] == "EXPIRED"
    assert waiting["paymentId"] == settled["paymentId"]
    confirm = quick_api.post(f"/payments/{settled['paymentId']}/confirm", headers=buyer.auth)
    assert confirm.status_code == 409, confirm.text  # too late to approve
    event_of(quick_stack, "OrderExpired", order_id)
    event_of(quick_stack, "PaymentFailed", order_id)


def test_paid_order_ships_after_the_fulfilment_delay(quick_stack: Stack, quick_api: httpx.Client, listing: str) -> None:
    buyer: User
    buyer, accepted = place(quick_api, listing, "4242")
    confirmed = wait_order(quick_api, buyer, accepted["orderId"], {"CONFIRMED", "SHIPPED"})
    assert confirmed["status"] in ("CONFIRMED", "SHIPPED")
    shipped = wait_order(quick_api, buyer, accepted["orderId"], {"SHIPPED"}, timeout=20)
    assert [h["status"] for h in shipped["history"]] == ["PENDING", "CREATED", "CONFIRMED", "SHIPPED"]
    event_of(quick_stack, "OrderShipped", accepted["orderId"])
