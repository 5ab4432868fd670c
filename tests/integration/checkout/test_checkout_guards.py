"""The cart's hand-off to checkout over HTTP: an item taken off sale cannot be bought on a held price, and
confirming an order takes out of the cart only what the order bought."""

from __future__ import annotations

import httpx
import pytest

from tests.support.checkout import checkout, confirm_payment, fill_cart, wait_order
from tests.support.polling import eventually
from tests.support.users import User, error_code, new_item, register


@pytest.fixture(scope="module")
def items(api: httpx.Client, seller: User) -> list[str]:
    created = [api.post("/items", headers=seller.auth, json=new_item(quantity=500, price=700)) for _ in range(2)]
    assert all(answer.status_code == 201 for answer in created), [answer.text for answer in created]
    return [str(answer.json()["itemId"]) for answer in created]


def test_an_item_taken_off_sale_cannot_be_bought_on_its_held_price(api: httpx.Client, seller: User) -> None:
    created = api.post("/items", headers=seller.auth, json=new_item(quantity=10))
    item = created.json()["itemId"]
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, item)  # the price is held for PRICE_HOLD_SECONDS from now
    assert api.post(f"/items/{item}/deactivate", headers=seller.auth).status_code == 200
    refused = checkout(api, buyer, cart, "4242")
    assert refused.status_code == 409 and error_code(refused) == "ITEM_UNAVAILABLE", refused.text
    assert refused.json()["error"]["details"] == {"itemId": item, "variantId": "default"}


def test_confirmation_leaves_what_the_buyer_added_while_paying(api: httpx.Client, items: list[str]) -> None:
    bought, added = items
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, bought, 2)
    accepted = checkout(api, buyer, cart, "3220")  # the payment waits for POST /payments/{id}/confirm
    assert accepted.status_code == 202, accepted.text
    order = wait_order(api, buyer, accepted.json()["orderId"], {"CREATED"})
    fill_cart(api, buyer, bought, 3)  # one more unit of the bought item
    fill_cart(api, buyer, added, 1)  # and another item
    confirmed = confirm_payment(api, buyer, order["paymentId"])
    assert confirmed.status_code == 200, confirmed.text
    assert wait_order(api, buyer, order["orderId"], {"CONFIRMED", "SHIPPED"})["status"] in ("CONFIRMED", "SHIPPED")

    def settled() -> tuple[list[tuple[str, int]]] | None:
        lines = [(line["itemId"], line["quantity"]) for line in api.get("/cart", headers=buyer.auth).json()["lines"]]
        return None if lines == [(bought, 3), (added, 1)] else (lines,)

    left = eventually(settled, timeout=30, message="the bought units leave the cart")[0]
    assert left == [(bought, 1), (added, 1)]
