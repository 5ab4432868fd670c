"""The checkout saga over real HTTP and the real state machine: each payment outcome reaches its terminal
order status, stock is reserved then sold or released, and the card number is never stored or logged."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.checkout import checkout, confirm_payment, fill_cart, place, stock_of, wait_order
from tests.support.users import User, error_code, new_item, register


@pytest.fixture(scope="module")
def item(api: httpx.Client, seller: User) -> str:
    created = api.post("/items", headers=seller.auth, json=new_item(quantity=1000, price=1500))
    assert created.status_code == 201, created.text
    return str(created.json()["itemId"])


@pytest.mark.parametrize(
    ("last4", "status", "reason", "payment"),
    [
        ("4242", "CONFIRMED", None, "CAPTURED"),
        ("0119", "CONFIRMED", None, "CAPTURED"),  # transient error, retried with backoff
        ("0002", "PAYMENT_FAILED", "DECLINED", "DECLINED"),
        ("9995", "PAYMENT_FAILED", "INSUFFICIENT_FUNDS", "INSUFFICIENT_FUNDS"),
        ("0341", "PAYMENT_FAILED", "FRAUD_REJECTED", "FRAUD_REJECTED"),
    ],
)
def test_payment_outcomes(api: httpx.Client, item: str, last4: str, status: str, reason: str | None,
                          payment: str) -> None:  # fmt: skip
    before = stock_of(api, item)
    buyer, accepted = place(api, item, last4)
    order = wait_order(api, buyer, accepted["orderId"])
    assert (order["status"], order["reason"], order["paymentStatus"]) == (status, reason, payment), order
    assert order["cardLast4"] == last4
    assert [h["status"] for h in order["history"]][:2] == ["PENDING", "CREATED"]
    if status == "CONFIRMED":
        deadline = time.monotonic() + 30  # the saga empties the cart right after confirming
        while api.get("/cart", headers=buyer.auth).json()["lines"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.get("/cart", headers=buyer.auth).json()["lines"] == []
    else:
        deadline = time.monotonic() + 30
        while stock_of(api, item) < before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stock_of(api, item) >= before  # released (other tests may change it meanwhile upward only)


def test_confirmation_given(api: httpx.Client, item: str) -> None:
    buyer, accepted = place(api, item, "3220")
    order = wait_order(api, buyer, accepted["orderId"], {"CREATED"})
    confirmed = confirm_payment(api, buyer, order["paymentId"])
    assert confirmed.status_code == 200, confirmed.text
    assert wait_order(api, buyer, accepted["orderId"])["status"] == "CONFIRMED"


def test_cancel_confirmed_order_returns_stock(api: httpx.Client, item: str) -> None:
    buyer, accepted = place(api, item, "4242")
    wait_order(api, buyer, accepted["orderId"])
    cancelled = api.post(f"/orders/{accepted['orderId']}/cancel", headers=buyer.auth)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["paymentStatus"]) == ("CANCELLED", "REFUNDED")
    again = api.post(f"/orders/{accepted['orderId']}/cancel", headers=buyer.auth)
    assert again.status_code == 200


def test_checkout_refusals(api: httpx.Client, item: str) -> None:
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, item)
    no_key = api.post(
        "/checkout",
        headers=buyer.auth,
        json={
            "cartId": cart["cartId"],
            "amount": 1,
            "paymentInfo": {"paymentType": "CARD", "cardNo": "4242424242424242"},
        },
    )
    assert (no_key.status_code, error_code(no_key)) == (400, "IDEMPOTENCY_KEY_REQUIRED")
    wrong = checkout(api, buyer, cart, "4242", amount=cart["totals"]["total"] + 1)
    assert (wrong.status_code, error_code(wrong)) == (409, "AMOUNT_MISMATCH")
    assert wrong.json()["error"]["details"]["total"] == cart["totals"]["total"]
    bad_card = api.post(
        "/checkout",
        headers={**buyer.auth, "Idempotency-Key": "k1"},
        json={"cartId": cart["cartId"], "amount": 1, "paymentInfo": {"paymentType": "CARD", "cardNo": "12ab"}},
    )
    assert bad_card.status_code == 422
    other = register(api, "buyer")
    foreign = checkout(api, other, cart, "4242")
    assert foreign.status_code in (404, 422), foreign.text


def test_one_key_one_order_and_reuse_refused(api: httpx.Client, item: str) -> None:
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, item)
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: checkout(api, buyer, cart, "4242", key=key), range(2)))
    ok = [a for a in answers if a.status_code == 202]
    assert ok and all(a.status_code in (202, 409) for a in answers), [a.text for a in answers]
    again = checkout(api, buyer, cart, "4242", key=key)
    if again.status_code == 202:
        assert {a.json()["orderId"] for a in ok} == {again.json()["orderId"]}
    reused = checkout(api, buyer, cart, "4242", key=key, amount=cart["totals"]["total"] + 5)
    assert (reused.status_code, error_code(reused)) == (409, "IDEMPOTENCY_KEY_REUSED")
    orders = api.get("/orders", headers=buyer.auth).json()["orders"]
    assert len(orders) == 1


def test_other_buyers_order_is_404(api: httpx.Client, item: str) -> None:
    _, accepted = place(api, item, "4242")
    stranger = register(api, "buyer")
    assert api.get(f"/orders/{accepted['orderId']}", headers=stranger.auth).status_code == 404
    assert api.post(f"/orders/{accepted['orderId']}/cancel", headers=stranger.auth).status_code == 404
