"""Buying over HTTP: fill a cart, check out with a test card, follow the order to a status."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import httpx

from tests.support.users import User, error_code, new_item, register

CARD = "4242 4242 4242 {last4}"
TERMINAL = {"CONFIRMED", "SHIPPED", "REJECTED", "PAYMENT_FAILED", "EXPIRED", "CANCELLED"}


def stock_of(api: httpx.Client, item_id: str) -> int:
    return int(api.get(f"/items/{item_id}").json()["available"])


def fill_cart(api: httpx.Client, buyer: User, item_id: str, quantity: int = 1) -> dict[str, Any]:
    answer = api.patch("/cart", headers=buyer.auth, json={"itemId": item_id, "quantity": quantity})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def checkout(api: httpx.Client, buyer: User, cart: dict[str, Any], last4: str, key: str | None = None,
             amount: int | None = None) -> httpx.Response:  # fmt: skip
    return api.post(
        "/checkout", headers={**buyer.auth, "Idempotency-Key": key or uuid.uuid4().hex},
        json={"cartId": cart["cartId"], "amount": cart["totals"]["total"] if amount is None else amount,
              "paymentInfo": {"paymentType": "CARD", "cardNo": CARD.format(last4=last4)}},
    )  # fmt: skip


# What a buyer's client sends again with the same Idempotency-Key: the service said nothing was decided
# (busy, the same request still running, the cart changing under it), or the gateway answered on its own
# because the function failed or timed out (500/502/503/504 without an error code). The key makes the retry
# safe: it finds the first attempt's order, or does the work the first attempt never finished.
RETRIED = {(503, "SERVICE_BUSY"), (409, "REQUEST_IN_PROGRESS"), (409, "CART_CONFLICT"),
           (500, None), (502, None), (503, None), (504, None)}  # fmt: skip


def place_until_decided(api: httpx.Client, buyer: User, cart: dict[str, Any]) -> httpx.Response:
    """POST /checkout as a storefront does: one Idempotency-Key, sent again with full-jitter backoff while
    the answer is RETRIED (12 tries); the first other answer (or the last one)."""
    key = uuid.uuid4().hex
    for attempt in range(12):
        answer = checkout(api, buyer, cart, "4242", key=key)
        if answer.status_code < 400 or (answer.status_code, error_code(answer)) not in RETRIED:
            return answer
        time.sleep(min(2.0, 0.1 * 2**attempt) * random.random())  # noqa: S311 - jitter, not a secret
    return answer


def wait_order(api: httpx.Client, buyer: User, order_id: str, statuses: set[str] = TERMINAL,
               timeout: float = 30) -> dict[str, Any]:  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        order = api.get(f"/orders/{order_id}", headers=buyer.auth)
        assert order.status_code == 200, order.text
        if order.json()["status"] in statuses:
            return dict(order.json())
        assert time.monotonic() < deadline, f"order still {order.json()['status']}"
        time.sleep(0.1)


def place(api: httpx.Client, item: str, last4: str) -> tuple[User, dict[str, Any]]:
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, item, 2)
    answer = checkout(api, buyer, cart, last4)
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/orders/{answer.json()['orderId']}"
    return buyer, answer.json()


def listed_item(api: httpx.Client, quantity: int = 50, price: int = 1200) -> str:
    """A new seller's new item with `quantity` units on sale; its id."""
    seller = register(api, "seller")
    created = api.post("/items", headers=seller.auth, json=new_item(quantity=quantity, price=price))
    assert created.status_code == 201, created.text
    return str(created.json()["itemId"])


def confirm_payment(api: httpx.Client, buyer: User, payment_id: str, timeout: float = 10) -> httpx.Response:
    """The buyer approves a payment that needs it (card 3220), as soon as the saga has charged it."""
    deadline = time.monotonic() + timeout
    while True:
        confirmed = api.post(f"/payments/{payment_id}/confirm", headers=buyer.auth)
        if confirmed.status_code == 200 or time.monotonic() > deadline:
            return confirmed
        time.sleep(0.1)
