"""Buying over HTTP: fill a cart, check out with a test card, follow the order to a status."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.support.users import User, new_item, register

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
