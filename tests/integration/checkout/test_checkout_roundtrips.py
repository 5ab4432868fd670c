"""DynamoDB round trips per checkout (issue 15), pinned so that they cannot creep back.

The local cloud counts every DynamoDB call of every function (each SDK attempt), per function and per saga
task (GET /_local/dynamodb-calls, docs/local-cloud.md). One checkout is followed from POST /checkout to
CONFIRMED, and each step of its path may make at most what its design needs (docs/checkout.md, "DynamoDB
calls per checkout"): a step that starts reading something it already has, or writing what a transaction
could carry, fails here. Counted per invocation, so another test's order finishing meanwhile (a step costs
the same for every order) cannot move the figures.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from infra.faults import client
from tests.conftest import Stack
from tests.integration.checkout.test_checkout_resilience import new_listing
from tests.support.checkout import checkout, fill_cart, wait_order
from tests.support.users import User, register

# Calls per invocation of each step on one checkout's path (before issue 15's cuts: 8, 2 + 2 for
# CreateOrder, 6, 7; 25 in all).
CEILINGS = {
    "CheckoutFunction": 7,  # idempotency record 2, profile, cart, the line's item and stock, order + hold (1 tx)
    "SagaFunction:reserve_inventory": 2,  # the order, then stock + reservation + PENDING -> CREATED (1 tx)
    "SagaFunction:process_payment": 6,  # the order, CHARGING, velocity query, provider ledger 2, CAPTURED
    "SagaFunction:confirm_order": 4,  # the order, payment check + sale + CONFIRMED (1 tx), the cart 2
}


def _settled(api_url: str) -> dict[str, Any]:
    """The counts once no invocation is adding to them (two reads a second apart agree)."""
    previous = client.dynamodb_calls(api_url)
    while True:
        time.sleep(1.0)
        current = client.dynamodb_calls(api_url)
        if current == previous:
            return previous
        previous = current


def _step(counted: dict[str, int], step: str) -> int:
    """The count of `step` ("<logical function>[:<action>]"), whatever prefix the function's name has."""
    function, _, action = step.partition(":")
    return sum(n for name, n in counted.items()
               if name.partition(":")[0].endswith(function) and name.partition(":")[2] == action)  # fmt: skip


def test_one_checkout_makes_no_more_dynamodb_calls_than_its_steps_need(
    local_only: Stack, api: httpx.Client, seller: User
) -> None:
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, new_listing(api, seller, 3))
    _settled(local_only.api_url)
    client.reset_dynamodb_calls(local_only.api_url)

    answer = checkout(api, buyer, cart, "4242")
    assert answer.status_code == 202, answer.text
    wait_order(api, buyer, answer.json()["orderId"], {"CONFIRMED", "SHIPPED"})
    counted = _settled(local_only.api_url)

    per_invocation = {}
    for step in CEILINGS:
        invocations = _step(counted["invocations"], step)
        assert invocations >= 1, (step, counted["invocations"])
        per_invocation[step] = _step(counted["steps"], step) / invocations
    print(f"DynamoDB calls per invocation: {per_invocation}")
    assert {step: calls for step, calls in per_invocation.items() if calls > CEILINGS[step]} == {}
    assert sum(per_invocation.values()) <= 19
    assert _step(counted["invocations"], "SagaFunction:create_order") == 0  # folded into the reservation


def test_a_checkout_refused_at_the_door_only_reads(local_only: Stack, api: httpx.Client, seller: User) -> None:
    """Most of a sell-out is refused at the door: it takes no idempotency record (a write, then its delete),
    so it costs the reads of the check and one read of the key's record (5; 6 with 2 writes before)."""
    item = new_listing(api, seller, 1)
    first, late = register(api, "buyer"), register(api, "buyer")
    first_cart, late_cart = fill_cart(api, first, item), fill_cart(api, late, item)
    sold = checkout(api, first, first_cart, "4242")
    assert sold.status_code == 202, sold.text
    wait_order(api, first, sold.json()["orderId"], {"CONFIRMED", "SHIPPED"})
    _settled(local_only.api_url)
    client.reset_dynamodb_calls(local_only.api_url)

    refused = checkout(api, late, late_cart, "4242")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "OUT_OF_STOCK", refused.text
    counted = _settled(local_only.api_url)
    assert _step(counted["invocations"], "CheckoutFunction") == 1, counted["invocations"]
    assert _step(counted["steps"], "CheckoutFunction") <= 5, counted["steps"]
