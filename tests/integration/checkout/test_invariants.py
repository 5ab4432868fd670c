"""The invariant checker (infra.reconcile, `python -m infra reconcile`) against a real cloud: after real
checkouts (paid and shipped, declined, cancelled) it finds nothing; a row corrupted behind the shop's back is
named, and only that row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.reconcile import CARDS_CHECK, Report, Violation, local_target, reconcile
from tests.conftest import QUICK_PAYMENT_WINDOW_SECONDS, Stack
from tests.support.checkout import checkout, fill_cart, listed_item, wait_order
from tests.support.users import register

RESERVED_CHECK = "stock reserved = units of RESERVED reservations"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def item(quick_api: httpx.Client) -> str:
    return listed_item(quick_api)


@pytest.fixture(scope="module")
def orders(quick_api: httpx.Client, item: str) -> dict[str, str]:
    """One order per way of ending: paid (and shipped a second later), declined, cancelled while it waited."""
    placed = {}
    for outcome, last4 in (("shipped", "4242"), ("declined", "0002"), ("cancelled", "3220")):
        buyer = register(quick_api, "buyer")
        answer = checkout(quick_api, buyer, fill_cart(quick_api, buyer, item, 2), last4)
        assert answer.status_code == 202, answer.text
        order_id = answer.json()["orderId"]
        if outcome == "cancelled":
            wait_order(quick_api, buyer, order_id, {"CREATED"})
            assert quick_api.post(f"/orders/{order_id}/cancel", headers=buyer.auth).status_code == 200
        final = {"shipped": "SHIPPED", "declined": "PAYMENT_FAILED", "cancelled": "CANCELLED"}[outcome]
        assert wait_order(quick_api, buyer, order_id, {final})["status"] == final
        placed[outcome] = order_id
    return placed


def checked(stack: Stack, **options: Any) -> Report:
    assert stack.cloud is not None
    return reconcile(local_target(stack.cloud.state), **{"settle": 10, "slack": 1, **options})


def test_real_checkouts_leave_no_violation(quick_stack: Stack, orders: dict[str, str]) -> None:
    # Past the payment window and the slack: every ended order must hold nothing now (a charge that raced
    # the cancel is voided when the saga's wait for it times out, after the payment window).
    time.sleep(QUICK_PAYMENT_WINDOW_SECONDS + 1.5)
    report = checked(quick_stack)
    assert report.ok, report.text()
    assert report.check(RESERVED_CHECK).checked >= 1
    assert report.check("every order status change is published as exactly one event (one event id)").checked >= 3 * 2
    assert report.check(CARDS_CHECK).checked > 0
    assert report.check("stock available + reserved + sold = units stocked").checked >= 1


def test_a_stock_row_reserved_behind_the_shops_back_is_named(quick_stack: Stack, item: str, orders: dict) -> None:
    dynamodb, table = quick_stack.client("dynamodb"), quick_stack.outputs["InventoryTableName"]
    key = {"itemId": {"S": item}, "variantId": {"S": "default"}}
    bump = {"TableName": table, "Key": key, "UpdateExpression": "ADD reserved :n"}
    dynamodb.update_item(**bump, ExpressionAttributeValues={":n": {"N": "1"}})
    try:
        report = checked(quick_stack, settle=0)
    finally:
        dynamodb.update_item(**bump, ExpressionAttributeValues={":n": {"N": "-1"}})
    assert report.violations == [
        (RESERVED_CHECK, Violation(f"stock {item}/default", "reserved is 1 but RESERVED reservations hold 0")),
        ("stock available + reserved + sold = units stocked",
         Violation(f"stock {item}/default", "available + reserved + sold is 51 but 50 units were stocked")),
    ], report.text()  # fmt: skip
    assert checked(quick_stack, settle=0).ok


def test_a_card_number_written_into_an_order_is_found(quick_stack: Stack, orders: dict[str, str]) -> None:
    dynamodb, table = quick_stack.client("dynamodb"), quick_stack.outputs["OrdersTableName"]
    key = {"orderId": {"S": orders["declined"]}, "sk": {"S": "ORDER"}}
    dynamodb.update_item(
        TableName=table, Key=key, UpdateExpression="SET note = :card",
        ExpressionAttributeValues={":card": {"S": "paid with 4111-1111-1111-1111, thanks"}},
    )  # fmt: skip
    try:
        report = checked(quick_stack, settle=0)
    finally:
        dynamodb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE note")
    assert report.violations == [
        (CARDS_CHECK, Violation(f"table {table} item orderId={orders['declined']}, sk=ORDER at note",
                                "card number ************1111")),
    ], report.text()  # fmt: skip
    assert checked(quick_stack, settle=0).ok


def reconciled_by_the_command_line(arguments: list[str], environment: dict[str, str]) -> str:
    """`python -m infra reconcile ARGUMENTS`, which must exit 0; what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "infra", "reconcile", *arguments],
        cwd=ROOT, env=environment, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    output = done.stdout.decode()
    assert done.returncode == 0, output + done.stderr.decode()
    return output


def test_the_command_line_prints_each_check_and_exits_0(quick_stack: Stack, orders: dict[str, str]) -> None:
    assert quick_stack.cloud is not None
    environment = {**os.environ, "SHOP_CLOUD_STATE": str(quick_stack.cloud.workdir / "cloud.json")}
    for name in ("SHOP_STACK_NAME", "SHOP_STACK_OUTPUTS"):  # those would point it at another stack
        environment.pop(name, None)
    output = reconciled_by_the_command_line(["--settle", "5", "--no-logs"], environment)
    assert "ok    stock reserved = units of RESERVED reservations:" in output
    assert "ok    every order status change is published as exactly one event (one event id):" in output
    assert output.rstrip().endswith("no violations")


def test_another_stack_is_named_by_its_outputs_and_the_event_check_is_skipped(
    quick_stack: Stack, orders: dict[str, str]
) -> None:
    # As against LocalStack or AWS: the table names from the outputs, the endpoints from AWS_ENDPOINT_URL*.
    environment = {**os.environ, **quick_stack.environment, "SHOP_CLOUD_STATE": "/nonexistent/cloud.json"}
    output = reconciled_by_the_command_line(
        ["--stack-outputs", json.dumps(quick_stack.outputs), "--payment-window", "3"], environment
    )
    assert ("SKIP  every order status change is published as exactly one event (one event id): "
            "needs the local cloud's event log") in output
    assert "(window 3 s + slack 30 s)" in output
