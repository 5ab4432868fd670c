"""The cart against moto's in-process DynamoDB: lines, stock checks, guests, merging, the checkout interface."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shop import cart
from shop.cart.schemas import LineChange
from shop.cart.tables import Cart
from shop.catalog import onboard_item
from shop.catalog.schemas import NewItem
from shop.catalog.tables import Item
from shop.errors import (
    CartNotFoundError,
    EmptyCartError,
    ItemNotFoundError,
    ItemUnavailableError,
    OutOfStockError,
    PriceChangedError,
    ValidationFailedError,
)
from shop.identity import caller_from_claims
from shop.inventory import StockLine
from tests.unit.shop.apigw_events import BUYER_CLAIMS, SELLER_CLAIMS

SELLER = caller_from_claims(SELLER_CLAIMS)
USER = "buyer-sub-1"
BUYER = caller_from_claims({**BUYER_CLAIMS, "sub": USER})
CART_ID = f"cart_{USER}"


def listed(price=1000, quantity=100, **extra):
    body = {"name": "Mouse", "description": "d", "price": price, "quantity": quantity, **extra}
    return onboard_item(SELLER, NewItem.model_validate(body)).item_id


def change(item_id, quantity, variant=None):
    body = {"itemId": item_id, "quantity": quantity}
    if variant:
        body["variantId"] = variant
    return LineChange.model_validate(body)


def set_price(item_id, price):
    item = Item.get(item_id)
    item.update(actions=[Item.price.set(price)])


def test_lines_are_added_updated_and_removed(tables):
    owner = cart.user_cart(USER)
    mouse, pad = listed(999), listed(1500)
    view = cart.set_line(owner, change(mouse, 2))
    view = cart.set_line(owner, change(pad, 1))
    assert view.cart_id == CART_ID
    assert [(line.item_id, line.quantity, line.line_total) for line in view.lines] == [(mouse, 2, 1998), (pad, 1, 1500)]
    assert view.totals.subtotal == 3498 and view.totals.shipping == 499
    view = cart.set_line(owner, change(mouse, 5))
    assert [line.quantity for line in view.lines] == [5, 1]
    view = cart.set_line(owner, change(mouse, 0))
    assert [line.item_id for line in view.lines] == [pad]
    assert cart.get_cart(owner, region="us-ca").totals.tax == 109
    assert cart.empty_cart(owner).lines == []


def test_stock_checks(tables):
    owner = cart.user_cart(USER)
    scarce = listed(quantity=4)
    with pytest.raises(OutOfStockError) as refused:
        cart.set_line(owner, change(scarce, 5))
    assert refused.value.details["available"] == 4
    assert cart.set_line(owner, change(scarce, 4)).lines[0].low_stock
    assert not cart.set_line(owner, change(listed(quantity=6), 1)).lines[1].low_stock


def test_unknown_inactive_and_variant_items(tables):
    owner = cart.user_cart(USER)
    with pytest.raises(ItemNotFoundError):
        cart.set_line(owner, change("itm_01JD0000000000000000000000", 1))
    withdrawn = listed()
    Item.get(withdrawn).update(actions=[Item.status.set("INACTIVE")])
    with pytest.raises(ItemUnavailableError):
        cart.set_line(owner, change(withdrawn, 1))
    shirt = listed(1599, 3, variants=[{"variantId": "RD-M", "attributes": {"color": "red"}, "stock": 3, "price": 1799}])
    with pytest.raises(ValidationFailedError):
        cart.set_line(owner, change(shirt, 1))
    with pytest.raises(ItemNotFoundError):
        cart.set_line(owner, change(shirt, 1, "BL-L"))
    line = cart.set_line(owner, change(shirt, 2, "RD-M")).lines[0]
    assert (line.variant_id, line.unit_price, line.name) == ("RD-M", 1799, "Mouse (red)")


def test_guest_token_is_issued_and_an_expired_guest_cart_gets_a_new_one(tables):
    first = cart.set_guest_line(None, change(listed(), 1))
    assert cart.is_cart_token(first.cart_token)
    again = cart.set_guest_line(first.cart_token, change(listed(), 1))
    assert again.cart_token == first.cart_token and len(again.lines) == 2
    assert cart.get_guest_cart(None).lines == []
    row = Cart.get(again.cart_id)
    row.update(actions=[Cart.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    assert cart.get_guest_cart(first.cart_token).lines == []  # expired, even before the sweeper deletes it
    renewed = cart.set_guest_line(first.cart_token, change(listed(), 1))
    assert renewed.cart_token != first.cart_token and len(renewed.lines) == 1


def test_merge_is_capped_by_stock_deletes_the_guest_cart_and_is_idempotent(tables):
    scarce, plenty = listed(quantity=6), listed(quantity=100)
    cart.set_line(cart.user_cart(USER), change(scarce, 4))
    guest = cart.set_guest_line(None, change(scarce, 5))
    cart.set_guest_line(guest.cart_token, change(plenty, 2))
    merged = cart.merge_guest_cart(BUYER, guest.cart_token)
    assert [(line.item_id, line.quantity) for line in merged.lines] == [(scarce, 6), (plenty, 2)]
    assert cart.get_guest_cart(guest.cart_token).lines == []
    assert cart.merge_guest_cart(BUYER, guest.cart_token) == merged


def test_cart_for_checkout_honours_the_hold_then_reprices(tables):
    owner = cart.user_cart(USER)
    mouse = listed(1000)
    cart.set_line(owner, change(mouse, 2))
    set_price(mouse, 1200)
    held = cart.cart_for_checkout(USER, CART_ID)
    assert held.lines[0].unit_price == 1000 and held.totals.total == 2000 + 499

    later = datetime.now(UTC) + timedelta(minutes=31)
    with pytest.raises(PriceChangedError) as changed:
        cart.cart_for_checkout(USER, CART_ID, now=later)
    assert changed.value.details["previousTotal"] == 2499
    assert changed.value.details["totals"]["total"] == 2400 + 499
    # The new prices were stored: the buyer sees them and a second checkout accepts them.
    assert cart.get_cart(owner).totals.total == 2899
    accepted = cart.cart_for_checkout(USER, CART_ID, now=later)
    assert accepted.lines == (cart.CheckoutLine(mouse, "default", 2, 1200, "Mouse"),)
    assert accepted.totals == cart.Totals(2400, 0, 499, 2899) and accepted.currency == "USD"


def test_stale_but_unchanged_prices_pass(tables):
    cart.set_line(cart.user_cart(USER), change(listed(1000), 1))
    later = datetime.now(UTC) + timedelta(hours=5)
    assert cart.cart_for_checkout(USER, CART_ID, now=later).totals.subtotal == 1000


def test_cart_for_checkout_refusals(tables):
    with pytest.raises(CartNotFoundError):
        cart.cart_for_checkout(USER, "cart_someone-else")
    with pytest.raises(EmptyCartError):
        cart.cart_for_checkout(USER, CART_ID)
    mouse = listed()
    cart.set_line(cart.user_cart(USER), change(mouse, 1))
    Item.get(mouse).update(actions=[Item.status.set("INACTIVE")])
    with pytest.raises(ItemUnavailableError):
        cart.cart_for_checkout(USER, CART_ID, now=datetime.now(UTC) + timedelta(hours=1))


def test_a_held_price_does_not_keep_a_withdrawn_item_buyable(tables):
    owner = cart.user_cart(USER)
    mouse = listed()
    cart.set_line(owner, change(mouse, 1))
    Item.get(mouse).update(actions=[Item.status.set("INACTIVE")])
    with pytest.raises(ItemUnavailableError) as refused:  # within the price hold
        cart.cart_for_checkout(USER, CART_ID)
    assert refused.value.details == {"itemId": mouse, "variantId": "default"}


def test_a_held_price_does_not_keep_a_removed_variant_buyable(tables):
    owner = cart.user_cart(USER)
    variants = [{"variantId": "RD-M", "attributes": {"color": "red"}, "stock": 3, "price": 1799},
                {"variantId": "BL-M", "attributes": {"color": "blue"}, "stock": 3, "price": 1799}]  # fmt: skip
    shirt = listed(1599, 6, variants=variants)
    cart.set_line(owner, change(shirt, 1, "RD-M"))
    item = Item.get(shirt)
    item.update(actions=[Item.variants.set([v for v in item.variants if v.variant_id != "RD-M"])])
    with pytest.raises(ItemUnavailableError) as refused:
        cart.cart_for_checkout(USER, CART_ID)
    assert refused.value.details == {"itemId": shirt, "variantId": "RD-M"}


def bought(item_id, quantity, variant="default"):
    return [StockLine(item_id, variant, quantity)]


def test_remove_bought_takes_out_only_what_the_order_bought_once(tables):
    owner = cart.user_cart(USER)
    mouse, pad, cable = listed(), listed(), listed()
    cart.set_line(owner, change(mouse, 2))
    cart.set_line(owner, change(pad, 1))
    # Checked out with 2 mice and 1 pad; while the payment awaited confirmation the buyer raised the mice to
    # 5 and added a cable.
    order_lines = [StockLine(mouse, "default", 2), StockLine(pad, "default", 1)]
    cart.set_line(owner, change(mouse, 5))
    cart.set_line(owner, change(cable, 1))
    cart.remove_bought(USER, CART_ID, order_id="ord_1", lines=order_lines)
    assert [(line.item_id, line.quantity) for line in cart.get_cart(owner).lines] == [(mouse, 3), (cable, 1)]
    cart.set_line(owner, change(pad, 4))  # added after the order
    cart.remove_bought(USER, CART_ID, order_id="ord_1", lines=order_lines)  # a retried confirmation
    assert [(line.item_id, line.quantity) for line in cart.get_cart(owner).lines] == [(mouse, 3), (cable, 1), (pad, 4)]
    cart.remove_bought(USER, CART_ID, order_id="ord_2", lines=bought(cable, 1) + bought(mouse, 1) + bought(mouse, 2))
    assert [(line.item_id, line.quantity) for line in cart.get_cart(owner).lines] == [(pad, 4)]
    cart.remove_bought(USER, CART_ID, order_id="ord_1", lines=order_lines)  # a late retry, after another order
    assert [(line.item_id, line.quantity) for line in cart.get_cart(owner).lines] == [(pad, 4)]
    cart.remove_bought("nobody", "cart_nobody", order_id="ord_3", lines=order_lines)  # no cart: nothing to do
    with pytest.raises(CartNotFoundError):
        cart.remove_bought(USER, "cart_nobody", order_id="ord_4", lines=order_lines)


def test_without_bought_keeps_the_surplus_and_what_was_not_bought():
    now = datetime.now(UTC)
    line = cart.carts.Line("itm_a", "default", "A", 3, 100, now)
    other = cart.carts.Line("itm_b", "RD", "B", 1, 100, now)
    assert cart.carts.without_bought([line, other], {("itm_a", "default"): 1}) == [
        cart.carts.Line("itm_a", "default", "A", 2, 100, now), other]  # fmt: skip
    assert cart.carts.without_bought([line, other], {("itm_a", "default"): 5, ("itm_b", "RD"): 1}) == []
    assert cart.carts.without_bought([line], {("itm_b", "default"): 1}) == [line]


def test_a_lost_race_is_reapplied_not_lost(tables):
    owner = cart.user_cart(USER)
    first, second = listed(), listed()
    cart.set_line(owner, change(first, 1))
    stale = Cart.get(CART_ID)  # a second device read the cart ...
    cart.set_line(owner, change(second, 1))  # ... the first device wrote meanwhile
    stale.lines = []
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        stale.save()  # a blind write of the stale copy is refused by the version condition
    assert len(cart.get_cart(owner).lines) == 2


@pytest.mark.timeout(60)
def test_merging_many_lines_reads_their_offers_without_waiting_on_itself(tables):
    # Each line's offer reads the item and, alongside, its stock: with more lines than reader threads, offers
    # waiting for their stock reads must not hold every thread those reads need (a deadlock before).
    items = [listed(quantity=10) for _ in range(12)]
    guest = cart.set_guest_line(None, change(items[0], 1))
    for item_id in items[1:]:
        cart.set_guest_line(guest.cart_token, change(item_id, 1))
    merged = cart.merge_guest_cart(BUYER, guest.cart_token)
    assert sorted(line.item_id for line in merged.lines) == sorted(items)
