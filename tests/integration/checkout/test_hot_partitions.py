"""A hot SKU against DynamoDB's per-partition limit (issue 15), on the session's local cloud.

- With the partition-limit emulation on (dynamodb.partition-writes, docs/local-cloud.md), a flash sale on
  one stock row is throttled, while the same number of checkouts spread over their own items is not; the
  shop's retries still sell every unit once and the invariant checker finds nothing.
- A SKU switched to stock shards and back (POST /items/{itemId}/stock {"shards": N}) while buyers check it
  out: every unit sold once or still on sale, nothing created or lost, the rows' counts matching the
  reservations (infra.reconcile).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from infra.reconcile import local_target, reconcile
from tests.conftest import Stack
from tests.integration.checkout.test_checkout_resilience import new_listing
from tests.support.checkout import TERMINAL, fill_cart, place_until_decided, stock_of, wait_order
from tests.support.faults import clear_faults, fault_counts, set_faults
from tests.support.users import User, error_code, register

# Scaled far below AWS's 1,000 WCU/s so that 16 buyers at once exceed it on one key: a transactional write
# costs 2 units, so one stock row takes 4 reservations or sales a second.
ENTRY = "dynamodb.partition-writes@InventoryTable"
LIMIT = f"{ENTRY}=8"
PAID = ("CONFIRMED", "SHIPPED")


@pytest.fixture
def limited(local_only: Stack) -> Iterator[Stack]:
    try:
        yield local_only
    finally:
        clear_faults(local_only)


def _sale(api: httpx.Client, buyers: list[User], carts: list[dict]) -> list[dict]:
    """Every buyer checks out at once (16 at a time), retrying "busy" as a storefront does; the final orders."""
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda bc: place_until_decided(api, *bc), zip(buyers, carts, strict=True)))
        refused = [a for a in answers if a.status_code != 202]
        assert all((a.status_code, error_code(a)) == (422, "OUT_OF_STOCK") for a in refused), {a.text for a in refused}
        accepted = [(b, a.json()["orderId"]) for b, a in zip(buyers, answers, strict=True) if a.status_code == 202]
        return list(pool.map(lambda bo: wait_order(api, bo[0], bo[1], TERMINAL, timeout=120), accepted))


def _our_violations(stack: Stack, keys: set[str]) -> list[tuple[str, object]]:
    assert stack.cloud is not None
    report = reconcile(local_target(stack.cloud.state), settle=20, slack=5, scan_logs=False)
    return [(check, v) for check, v in report.violations if any(key in v.where for key in keys)]


def test_one_hot_stock_row_is_throttled_spread_rows_are_not_and_every_promise_holds(
    limited: Stack, api: httpx.Client, seller: User
) -> None:
    units, buyers_count = 8, 24
    hot = new_listing(api, seller, units)
    spread = [new_listing(api, seller, 1) for _ in range(buyers_count)]
    with ThreadPoolExecutor(16) as pool:
        buyers = list(pool.map(lambda _: register(api, "buyer"), range(2 * buyers_count)))
        hot_carts = list(pool.map(lambda b: fill_cart(api, b, hot), buyers[:buyers_count]))
        spread_carts = list(pool.map(lambda bi: fill_cart(api, *bi), zip(buyers[buyers_count:], spread, strict=True)))

    set_faults(limited, LIMIT)
    spread_orders = _sale(api, buyers[buyers_count:], spread_carts)
    spread_throttles = fault_counts(limited)[ENTRY]
    hot_orders = _sale(api, buyers[:buyers_count], hot_carts)
    hot_throttles = fault_counts(limited)[ENTRY] - spread_throttles
    clear_faults(limited)
    print(f"partition limit {LIMIT}: {hot_throttles} throttles on one row, {spread_throttles} on {buyers_count} rows")

    assert spread_throttles == 0
    assert sum(o["status"] in PAID for o in spread_orders) == buyers_count  # each sold its own unit
    assert hot_throttles > 0
    assert all(o["status"] in (*PAID, "REJECTED") for o in hot_orders), [o["status"] for o in hot_orders]
    assert all(o["reason"] == "OUT_OF_STOCK" for o in hot_orders if o["status"] == "REJECTED")
    assert sum(o["status"] in PAID for o in hot_orders) == units  # throttled, retried: every unit sold once
    assert stock_of(api, hot) == 0
    assert not _our_violations(limited, {hot, *spread, *(o["orderId"] for o in hot_orders + spread_orders)})


def test_switching_a_sku_to_shards_and_back_while_buyers_check_out_loses_nothing(
    local_only: Stack, api: httpx.Client, seller: User
) -> None:
    units, buyers_count = 20, 40
    item = new_listing(api, seller, units)
    with ThreadPoolExecutor(16) as pool:
        buyers = list(pool.map(lambda _: register(api, "buyer"), range(buyers_count)))
        carts = list(pool.map(lambda b: fill_cart(api, b, item), buyers))

    def switch(shards: int) -> dict:
        answer = api.post(f"/items/{item}/stock", headers=seller.auth, json={"shards": shards})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    with ThreadPoolExecutor(2) as pool:
        sale = pool.submit(_sale, api, buyers, carts)
        switches = [switch(shards) for shards in (4, 1, 3, 2)]
        orders = sale.result()

    assert [s["shards"] for s in switches] == [4, 1, 3, 2]
    confirmed = sum(o["status"] in PAID for o in orders)
    assert all(o["status"] in (*PAID, "REJECTED") for o in orders), [o["status"] for o in orders]
    assert confirmed == units  # every unit sold once: none lost on a shard, none sold twice
    assert stock_of(api, item) == 0
    restocked = api.post(f"/items/{item}/stock", headers=seller.auth, json={"quantity": 6})
    assert restocked.json() == {"itemId": item, "variantId": "default", "available": 6, "reserved": 0,
                                "sold": units, "shards": 2}  # fmt: skip
    assert stock_of(api, item) == 6  # GET /items/{itemId}: the shards' sum
    assert not _our_violations(local_only, {item, *(o["orderId"] for o in orders)})
