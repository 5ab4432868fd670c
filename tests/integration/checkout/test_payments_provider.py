"""Payments against the provider's own records, over real HTTP, the real state machine and DynamoDB Local: the
seed's checkout request (a masked card number) works verbatim, a cancel refunds or voids at the provider,
and the scheduled reconciler is deployed and runs."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.support.checkout import fill_cart, place, wait_order
from tests.support.users import new_item, register

SEED_PAYMENT_INFO = {"paymentType": "CARD", "cardNo": "**** **** **** 1234"}


@pytest.fixture(scope="module")
def item(api: httpx.Client, seller: Any) -> str:
    created = api.post("/items", headers=seller.auth, json=new_item(quantity=100, price=999))
    assert created.status_code == 201, created.text
    return str(created.json()["itemId"])


def ledger(stack: Stack, payment_id: str) -> dict[str, Any] | None:
    found = stack.client("dynamodb").get_item(
        TableName=stack.outputs["PaymentProviderLedgerTableName"], Key={"paymentId": {"S": payment_id}},
        ConsistentRead=True,
    ).get("Item")  # fmt: skip
    if found is None:
        return None
    return {"status": found["status"]["S"], "operations": set(found.get("operations", {}).get("SS", []))}


def wait_ledger(stack: Stack, payment_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        entry = ledger(stack, payment_id)
        if entry is not None and entry["status"] == status:
            return entry
        assert time.monotonic() < deadline, f"the provider has {entry} for {payment_id}"
        time.sleep(0.1)


def test_the_seed_checkout_request_works_verbatim(api: httpx.Client, item: str) -> None:
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, item, 2)
    answer = api.post(
        "/checkout", headers={**buyer.auth, "Idempotency-Key": uuid.uuid4().hex},
        json={"cartId": cart["cartId"], "amount": cart["totals"]["total"], "paymentInfo": SEED_PAYMENT_INFO},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    order = wait_order(api, buyer, answer.json()["orderId"])
    assert (order["status"], order["paymentStatus"], order["cardLast4"]) == ("CONFIRMED", "CAPTURED", "1234")


def test_card_forms_refused_with_422(api: httpx.Client, item: str) -> None:
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, item)
    for info in ({"paymentType": "CARD"}, {**SEED_PAYMENT_INFO, "paymentToken": "tok_local_1234_0123456789abcdef"},
                 {"paymentType": "CARD", "cardNo": "**** 12"}):  # fmt: skip
        refused = api.post(
            "/checkout", headers={**buyer.auth, "Idempotency-Key": uuid.uuid4().hex},
            json={"cartId": cart["cartId"], "amount": cart["totals"]["total"], "paymentInfo": info},
        )  # fmt: skip
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "VALIDATION_FAILED"


def test_cancelling_refunds_a_capture_at_the_provider(stack: Stack, api: httpx.Client, item: str) -> None:
    buyer, accepted = place(api, item, "4242")
    order = wait_order(api, buyer, accepted["orderId"])
    assert wait_ledger(stack, order["paymentId"], "CAPTURED")
    cancelled = api.post(f"/orders/{accepted['orderId']}/cancel", headers=buyer.auth)
    assert (cancelled.status_code, cancelled.json()["paymentStatus"]) == (200, "REFUNDED"), cancelled.text
    entry = wait_ledger(stack, order["paymentId"], "REFUNDED")
    assert f"refund:{order['paymentId']}" in entry["operations"]


def test_cancelling_voids_a_payment_awaiting_confirmation_at_the_provider(
    stack: Stack, api: httpx.Client, item: str
) -> None:
    buyer, accepted = place(api, item, "3220")
    order = wait_order(api, buyer, accepted["orderId"], {"CREATED"})
    wait_ledger(stack, order["paymentId"], "REQUIRES_CONFIRMATION")
    cancelled = api.post(f"/orders/{accepted['orderId']}/cancel", headers=buyer.auth)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["paymentStatus"]) == ("CANCELLED", "CANCELLED")
    entry = wait_ledger(stack, order["paymentId"], "VOIDED")
    assert f"void:{order['paymentId']}" in entry["operations"]


def test_the_reconciler_is_deployed_and_runs(local_only: Stack) -> None:
    invoked = local_only.client("lambda").invoke(FunctionName="PaymentsReconcilerFunction", Payload=b"{}")
    payload = json.loads(invoked["Payload"].read())
    assert "FunctionError" not in invoked, payload
    assert {"checked", "counts", "settled", "unsettled"} <= payload.keys()


def payment_status(stack: Stack, payment_id: str) -> str | None:
    found = (
        stack.client("dynamodb")
        .get_item(
            TableName=stack.outputs["PaymentsTableName"], Key={"paymentId": {"S": payment_id}}, ConsistentRead=True
        )
        .get("Item")
    )
    return None if found is None else str(found["status"]["S"])


def test_a_cancel_while_the_charge_is_retried_holds_no_money(stack: Stack, api: httpx.Client, item: str) -> None:
    """0119 fails at the provider once, so the payment waits CHARGING for the saga's retry: a cancel then voids
    it at the provider, and the retried charge takes nothing. (If the retry wins the race, the cancel refunds.)"""
    buyer, accepted = place(api, item, "0119")
    order = wait_order(api, buyer, accepted["orderId"], {"CREATED", "CONFIRMED"})
    deadline = time.monotonic() + 30
    while payment_status(stack, order["paymentId"]) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    cancelled = api.post(f"/orders/{accepted['orderId']}/cancel", headers=buyer.auth)
    assert cancelled.status_code == 200, cancelled.text
    ended = cancelled.json()["paymentStatus"]
    assert ended in ("CANCELLED", "REFUNDED"), cancelled.json()
    entry = wait_ledger(stack, order["paymentId"], "VOIDED" if ended == "CANCELLED" else "REFUNDED")
    time.sleep(3)  # the saga's retried charge, if any, has run by now
    assert ledger(stack, order["paymentId"]) == entry  # still no money held
    assert wait_order(api, buyer, accepted["orderId"])["status"] == "CANCELLED"
