"""The card forms POST /checkout accepts (exactly one of a full number, a masked number, a provider token) and
the card each becomes (payments.card_for); the seed's request body works verbatim."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shop import cart, checkout, orders, payments
from shop.cart.schemas import LineChange
from shop.catalog import onboard_item
from shop.catalog.schemas import NewItem
from shop.checkout.schemas import CheckoutRequest
from shop.errors import ValidationFailedError
from shop.identity import caller_from_claims
from tests.unit.shop.apigw_events import BUYER_CLAIMS, SELLER_CLAIMS

SEED_REQUEST = {"cartId": "cart456", "amount": 1998,
                "paymentInfo": {"paymentType": "CARD", "cardNo": "**** **** **** 1234"}}  # fmt: skip
TOKEN = "tok_local_3220_0123456789abcdef"


def payment_info(**fields: Any) -> dict[str, Any]:
    return {"cartId": "c1", "amount": 100, "paymentInfo": {"paymentType": "CARD", **fields}}


@pytest.mark.parametrize(
    "fields",
    [{"cardNo": "**** **** **** 1234"}, {"cardNo": "************1234"}, {"cardNo": "4242 4242 4242 4242"},
     {"cardNo": "4242424242424242"}, {"cardNo": "3782 822463 10005"}, {"paymentToken": TOKEN}],
)  # fmt: skip
def test_each_card_form_is_accepted(fields: dict[str, str]) -> None:
    CheckoutRequest.model_validate(payment_info(**fields))


def test_the_seed_request_validates_verbatim() -> None:
    request = CheckoutRequest.model_validate(SEED_REQUEST)
    assert (request.payment_info.card_no, request.payment_info.payment_token) == ("**** **** **** 1234", None)


@pytest.mark.parametrize(
    ("fields", "field"),
    [({}, "paymentInfo"), ({"cardNo": "4242 4242 4242 4242", "paymentToken": TOKEN}, "paymentInfo"),
     ({"cardNo": "12ab"}, "cardNo"), ({"cardNo": "**** **** **** ***4"}, "cardNo"),
     ({"cardNo": "**** 1234"}, "cardNo"), ({"cardNo": "4242  4242 4242 4242"}, "cardNo"),
     ({"cardNo": "4" * 20}, "cardNo"), ({"paymentToken": "4242424242424242"}, "paymentToken")],
)  # fmt: skip
def test_malformed_or_ambiguous_card_forms_are_refused(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        CheckoutRequest.model_validate(payment_info(**fields))
    assert raised.value.errors()[0]["loc"][-1] == field


def test_card_for_each_form(tables) -> None:
    full = payments.card_for("4000 0566 5566 5556", None)
    assert (full.last4, full.fingerprint) == ("5556", "local-5556")
    assert "40000566" not in full.token and "5566" not in full.token.replace("_5556_", "_")
    masked = payments.card_for("**** **** **** 0002", None)  # the last four digits choose the test card
    assert masked.last4 == "0002" and masked.token.startswith("tok_local_0002_")
    assert payments.card_for(None, TOKEN) == payments.CardToken(TOKEN, "3220", "local-3220")


@pytest.mark.parametrize(
    ("card_no", "token", "field"),
    [(None, None, "paymentInfo"), ("4242 4242 4242 4242", TOKEN, "paymentInfo"), ("12ab", None, "paymentInfo.cardNo"),
     ("**** ****", None, "paymentInfo.cardNo"), (None, "tok_stripe_abcdef", "paymentInfo.paymentToken")],
)  # fmt: skip
def test_card_for_refuses_with_the_field_named(tables, card_no: str | None, token: str | None, field: str) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        payments.card_for(card_no, token)
    assert raised.value.details["fields"][0]["field"] == field
    assert "4242" not in str(raised.value.details)  # a refusal never repeats the number


def test_the_seed_request_places_an_order_with_the_masked_cards_last_four(tables) -> None:
    seller, buyer = caller_from_claims(SELLER_CLAIMS), caller_from_claims(BUYER_CLAIMS)
    item = onboard_item(seller, NewItem.model_validate({"name": "Mug", "description": "d", "price": 999,
                                                        "quantity": 5})).item_id  # fmt: skip
    view = cart.set_line(cart.user_cart(buyer.user_id), LineChange.model_validate({"itemId": item, "quantity": 2}))
    body = {**SEED_REQUEST, "cartId": view.cart_id, "amount": view.totals.total}
    accepted = checkout.place_order(buyer, CheckoutRequest.model_validate(body), idempotency_key="seed")
    order = orders.load(accepted.order_id)
    assert order.card_last4 == "1234" and order.card_token.startswith("tok_local_1234_")
