"""Hot-SKU sharded stock (shop.inventory.shards): the shard arithmetic under hypothesis, and the whole life of a
sharded variant against moto's DynamoDB: switching on, reservations until sold out, sale and release back to
the row each unit came from, restocks spread, switching off while orders hold units, nothing created or lost."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop import catalog, inventory
from shop.catalog.schemas import NewItem
from shop.dynamodb import transaction
from shop.errors import OutOfStockError
from shop.identity import caller_from_claims
from shop.inventory import shards
from shop.inventory.tables import ReservationRow, Stock
from tests.unit.inventory.test_reservations import pending
from tests.unit.shop.apigw_events import SELLER_CLAIMS

SELLER = caller_from_claims(SELLER_CLAIMS)

rows_strategy = st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=12)


@given(rows_strategy, st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=200),
       st.integers(min_value=0, max_value=100))  # fmt: skip
def test_a_take_never_exceeds_a_row_and_takes_exactly_the_quantity_or_nothing(available, active, quantity, start):
    active = min(active, len(available))
    plan = shards.plan_take(available, active, quantity, start % active)
    if sum(available) < quantity:
        assert plan is None
        return
    assert plan is not None
    assert sum(units for _, units in plan) == quantity
    assert all(0 < units <= available[row] for row, units in plan)
    assert len({row for row, _ in plan}) == len(plan)  # a transaction touches each row once
    first_with_stock = next(row for row in shards.take_order(active, len(available), start % active) if available[row])
    assert plan[0][0] == first_with_stock  # the random start is honoured, then the others in turn


@given(rows_strategy, st.integers(min_value=1, max_value=12))
def test_rebalancing_never_creates_or_loses_a_unit_and_ends_evenly_spread(available, active):
    active = min(active, len(available))
    rows = list(available)
    for source, target, units in shards.plan_moves(available, active):
        assert units > 0 and source != target
        rows[source] -= units
        rows[target] += units
        assert rows[source] >= 0  # each move is possible when it is made
    assert sum(rows) == sum(available)
    assert all(units == 0 for units in rows[active:])
    assert max(rows[:active]) - min(rows[:active]) <= 1


def listed(units: int) -> str:
    item = NewItem.model_validate({"name": "Hot", "description": "Flash", "price": 999, "quantity": units})
    return catalog.onboard_item(SELLER, item).item_id


def rows_of(item: str) -> shards.Rows:
    return shards.read_rows([(item, "default")])[(item, "default")]


def assert_conserved(item: str) -> None:
    """Every row (what infra.reconcile checks): available + reserved + sold = stocked, none negative, reserved
    and sold equal to the units the RESERVED and COMMITTED reservations took from that row."""
    held: dict[tuple[str, int], int] = {}
    for record in ReservationRow.scan():
        for line in record.lines:
            if line.item_id == item:
                key = (record.status, int(line.shard or 0))
                held[key] = held.get(key, 0) + int(line.quantity)
    home = Stock.get(item, "default", consistent_read=True)
    for n in range(max(int(home.shards or 1), int(home.shard_rows or 1))):
        row = Stock.get(shards.row_key(item, n), "default", consistent_read=True)
        counts = (int(row.available), int(row.reserved or 0), int(row.sold or 0))
        assert min(counts) >= 0 and sum(counts) == int(row.stocked), (n, counts, row.stocked)
        assert counts[1:] == (held.get((inventory.RESERVED, n), 0), held.get((inventory.COMMITTED, n), 0)), n


def reserve(order_id: str, item: str, quantity: int = 1) -> None:
    inventory.reserve(order_id, [inventory.StockLine(item, "default", quantity)], only_while=pending(order_id))


def test_a_sharded_variant_sells_exactly_its_units_spread_over_its_shards(tables):
    item = listed(10)
    assert rows_of(item).available == (10,)
    switched = catalog.restock(SELLER, item, None, None, shards=4)
    assert (switched.available, switched.shards) == (10, 4)
    assert sorted(rows_of(item).available, reverse=True) == [3, 3, 2, 2]
    assert catalog.get_item(item).available == 10  # GET /items shows the sum

    for n in range(9):
        reserve(f"ord_{n}", item)
    reserve("ord_two", item, 1)
    with pytest.raises(OutOfStockError) as short:
        reserve("ord_late", item)
    assert short.value.details["available"] == 0
    after = rows_of(item)
    assert (after.total_available, after.reserved) == (0, 10)
    assert_conserved(item)

    sale = inventory.sale_of("ord_0")
    assert sale is not None
    with transaction() as writes:
        sale.add_to(writes)
    assert inventory.release("ord_1") == inventory.RELEASED
    assert (rows_of(item).total_available, rows_of(item).reserved, rows_of(item).sold) == (1, 8, 1)
    assert_conserved(item)


def test_a_multi_unit_line_may_take_from_several_shards_in_one_transaction(tables):
    item = listed(8)
    catalog.restock(SELLER, item, None, None, shards=4)  # 2 units a shard
    reserve("ord_big", item, 7)
    record = inventory.sale_of("ord_big")
    assert record is not None
    assert sum(int(line.quantity) for line in record.record.lines) == 7 and len(record.record.lines) == 4
    assert rows_of(item).total_available == 1
    assert_conserved(item)


def test_restocks_spread_over_the_shards(tables):
    item = listed(0 + 1)
    catalog.restock(SELLER, item, None, None, shards=3)
    restocked = catalog.restock(SELLER, item, None, 9)
    assert restocked.available == 10
    assert max(rows_of(item).available) - min(rows_of(item).available) <= 1
    assert_conserved(item)


def test_switching_off_while_orders_hold_units_loses_nothing(tables):
    item = listed(12)
    catalog.restock(SELLER, item, None, None, shards=4)
    for n in range(6):
        reserve(f"ord_{n}", item)
    off = shards.set_shards(item, "default", 1)
    assert off.active == 1 and off.available[0] == 6 and not any(off.available[1:])
    assert (off.reserved, off.total_available) == (6, 6)
    # Released after the switch: back to the shard row it came from, still counted and still sold.
    for n in range(6):
        assert inventory.release(f"ord_{n}") == inventory.RELEASED
    assert_conserved(item)
    assert rows_of(item).total_available == 12 and catalog.get_item(item).available == 12
    for n in range(12):
        reserve(f"ord_again_{n}", item)
    with pytest.raises(OutOfStockError):
        reserve("ord_one_too_many", item)
    assert_conserved(item)
    shards.remember((item, "default"), sharded=False)  # another process's view: it never saw the shards
    shards.rebalance(item, "default")
    assert rows_of(item).reserved == 12
