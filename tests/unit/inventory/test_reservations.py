"""Reservations against moto's DynamoDB: all lines or none, only while the order allows it, sold or released
exactly once, and restocking a seller's own variant (shop.catalog.restock)."""

from __future__ import annotations

import pytest

from shop import catalog, inventory, orders
from shop.catalog.schemas import NewItem
from shop.dynamodb import ConditionCheck, transaction
from shop.errors import ItemNotFoundError, OutOfStockError, StockRowNotFoundError
from shop.identity import caller_from_claims
from shop.inventory.tables import Stock
from shop.orders.tables import ORDER, OrderRow
from tests.unit.shop.apigw_events import SELLER_CLAIMS

SELLER = caller_from_claims(SELLER_CLAIMS)


def stock(variant: str, available: int) -> None:
    Stock("itm_1", variant, available=available, updated_at="t").save()


def levels(variant: str) -> tuple[int, int, int]:
    row = Stock.get("itm_1", variant, consistent_read=True)
    return int(row.available), int(row.reserved or 0), int(row.sold or 0)


def pending(order_id: str) -> ConditionCheck:
    OrderRow(order_id, ORDER, user_id="u", cart_id="c", status="PENDING", payment_status="PENDING", payment_id="p",
             card_token="t", card_last4="4242", amount=1, currency="USD", totals={}, lines=[], history=[],
             created_at="t", updated_at="t").save()  # fmt: skip
    return orders.while_pending(order_id)


def lines(*quantities: tuple[str, int]) -> list[inventory.StockLine]:
    return [inventory.StockLine("itm_1", variant, quantity) for variant, quantity in quantities]


def test_all_lines_or_none_and_a_repeat_changes_nothing(tables):
    stock("a", 5), stock("b", 1)
    with pytest.raises(OutOfStockError) as short:
        inventory.reserve("ord_1", lines(("a", 2), ("b", 2)), only_while=pending("ord_1"))
    assert short.value.details == {"itemId": "itm_1", "variantId": "b", "requested": 2, "available": 1}
    assert (levels("a"), levels("b")) == ((5, 0, 0), (1, 0, 0))
    inventory.reserve("ord_2", lines(("a", 2), ("a", 1)), only_while=pending("ord_2"))
    inventory.reserve("ord_2", lines(("a", 3)), only_while=orders.while_pending("ord_2"))  # a retried step
    assert levels("a") == (2, 3, 0) and inventory.reservation_status("ord_2") == inventory.RESERVED


def test_nothing_is_reserved_once_the_order_left_pending(tables):
    stock("a", 5)
    check = pending("ord_1")
    assert orders.transition("ord_1", "CANCELLED", reason="CANCELLED_BY_BUYER")
    with pytest.raises(inventory.OrderNoLongerPendingError):
        inventory.reserve("ord_1", lines(("a", 1)), only_while=check)
    assert levels("a") == (5, 0, 0)


def test_sold_or_released_once(tables):
    stock("a", 5)
    inventory.reserve("ord_1", lines(("a", 2)), only_while=pending("ord_1"))
    sale = inventory.sale_of("ord_1")
    assert sale is not None
    with transaction() as writes:
        sale.add_to(writes)
    assert levels("a") == (3, 0, 2) and inventory.sale_of("ord_1") is None
    assert inventory.release("ord_1") == inventory.RETURNED  # a cancelled paid order: sold -> available
    assert inventory.release("ord_1") == inventory.RETURNED and levels("a") == (5, 0, 0)
    inventory.reserve("ord_2", lines(("a", 1)), only_while=pending("ord_2"))
    assert inventory.release("ord_2") == inventory.RELEASED and levels("a") == (5, 0, 0)
    assert inventory.release("ord_none") is None


def test_sellers_restock_their_own_variants_only(tables):
    mug = NewItem.model_validate({"name": "Mug", "description": "Blue", "price": 999, "quantity": 10})
    item = catalog.onboard_item(SELLER, mug).item_id
    restocked = catalog.restock(SELLER, item, None, 5)
    assert (restocked.variant_id, restocked.available, restocked.reserved, restocked.sold) == ("default", 15, 0, 0)
    with pytest.raises(StockRowNotFoundError):
        catalog.restock(SELLER, item, "v9", 1)
    other = caller_from_claims({**SELLER_CLAIMS, "sub": "another-seller"})
    with pytest.raises(ItemNotFoundError):  # someone else's item answers as an unknown one
        catalog.restock(other, item, None, 1)
