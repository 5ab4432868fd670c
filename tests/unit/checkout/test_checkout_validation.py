"""POST /checkout's rules against moto's AWS: the amount must be the server's total, an Idempotency-Key is
required, the same key and body place one order, the same key with another body is refused; and the
request schema refuses malformed amounts and card numbers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shop import cart, checkout, orders
from shop.cart.schemas import LineChange
from shop.catalog import onboard_item
from shop.catalog.schemas import NewItem
from shop.checkout.schemas import CheckoutRequest
from shop.errors import (
    AmountMismatchError,
    CartNotFoundError,
    EmptyCartError,
    IdempotencyKeyRequiredError,
    IdempotencyKeyReusedError,
    OutOfStockError,
)
from shop.identity import caller_from_claims
from shop.inventory.tables import Stock
from tests.unit.shop.apigw_events import BUYER_CLAIMS, SELLER_CLAIMS

SELLER = caller_from_claims(SELLER_CLAIMS)
BUYER = caller_from_claims(BUYER_CLAIMS)
CARD = "4242 4242 4242 4242"


def request(cart_id: str, amount: int, card: str = CARD) -> CheckoutRequest:
    return CheckoutRequest.model_validate(
        {"cartId": cart_id, "amount": amount, "paymentInfo": {"paymentType": "CARD", "cardNo": card}}
    )


def filled_cart(quantity: int = 2, stock: int = 10) -> tuple[str, int]:
    item = onboard_item(SELLER, NewItem.model_validate({"name": "Mouse", "description": "d", "price": 1500,
                                                        "quantity": stock})).item_id  # fmt: skip
    line = LineChange.model_validate({"itemId": item, "quantity": quantity})
    view = cart.set_line(cart.user_cart(BUYER.user_id), line)
    return view.cart_id, view.totals.total


def test_amount_must_be_the_servers_total(tables) -> None:
    cart_id, total = filled_cart()
    with pytest.raises(AmountMismatchError) as raised:
        checkout.place_order(BUYER, request(cart_id, total - 1), idempotency_key="k1")
    assert raised.value.details["total"] == total == 3000


def test_key_required_and_one_key_one_order(tables) -> None:
    cart_id, total = filled_cart()
    with pytest.raises(IdempotencyKeyRequiredError):
        checkout.place_order(BUYER, request(cart_id, total), idempotency_key=None)
    first = checkout.place_order(BUYER, request(cart_id, total), idempotency_key="k2")
    again = checkout.place_order(BUYER, request(cart_id, total), idempotency_key="k2")
    assert first == again and first.status == "PENDING"
    with pytest.raises(IdempotencyKeyReusedError):
        checkout.place_order(BUYER, request(cart_id, total, card="4000 0000 0000 0002"), idempotency_key="k2")
    order = orders.load(first.order_id)
    assert (order.amount, order.card_last4, order.status) == (total, "4242", "PENDING")
    assert "4242 4242" not in order.card_token


def test_empty_foreign_and_sold_out_carts(tables) -> None:
    with pytest.raises(EmptyCartError):
        checkout.place_order(BUYER, request(f"cart_{BUYER.user_id}", 0), idempotency_key="k3")
    with pytest.raises(CartNotFoundError):
        checkout.place_order(BUYER, request("cart_someone-else", 0), idempotency_key="k4")
    cart_id, total = filled_cart(quantity=3, stock=3)
    for row in Stock.scan():  # others bought the units after this buyer filled the cart
        row.update(actions=[Stock.available.set(1)])
    with pytest.raises(OutOfStockError):
        checkout.place_order(BUYER, request(cart_id, total), idempotency_key="k5")


@pytest.mark.parametrize(
    "body",
    [
        {"cartId": "c", "amount": -1, "paymentInfo": {"paymentType": "CARD", "cardNo": CARD}},
        {"cartId": "c", "amount": "10", "paymentInfo": {"paymentType": "CARD", "cardNo": CARD}},
        {"cartId": "c", "amount": 1.5, "paymentInfo": {"paymentType": "CARD", "cardNo": CARD}},
        {"cartId": "c", "amount": 10, "paymentInfo": {"paymentType": "CARD", "cardNo": "4242"}},
        {"cartId": "c", "amount": 10, "paymentInfo": {"paymentType": "CARD", "cardNo": "4242-4242-4242-4242"}},
        {"cartId": "c", "amount": 10, "paymentInfo": {"paymentType": "CARD", "cardNo": "4242  4242 4242 4242"}},
        {"cartId": "c", "amount": 10, "paymentInfo": {"paymentType": "CASH", "cardNo": CARD}},
        {"cartId": "c", "amount": 10, "paymentInfo": {"paymentType": "CARD", "cardNo": CARD}, "extra": 1},
    ],
)
def test_malformed_requests_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CheckoutRequest.model_validate(body)


def test_card_numbers_of_13_to_19_digits_pass() -> None:
    for card in ("4222222222222", "4242 4242 4242 4242", "6" * 19):
        assert request("c", 1, card).payment_info.card_no == card
