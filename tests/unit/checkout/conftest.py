"""Unit tests of checkout, orders and payments against moto's in-process AWS (no network)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.template import load_template
from shop import checkout, payments
from shop.config import cart_settings, checkout_settings, settings
from shop.models import Cart, Item, Stock
from shop.order_models import HoldRow, OrderRow, PaymentRow, ReservationRow
from tests.unit.shop.apigw_events import ROOT

TABLES = {"ItemsTable": "Items", "InventoryTable": "Inventory", "CartsTable": "Carts",
          "IdempotencyTable": "Idempotency", "OrdersTable": "Orders", "PaymentsTable": "Payments"}  # fmt: skip
TABLE_SHAPE = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
ENVIRONMENT = {
    "ITEMS_TABLE": "Items",
    "INVENTORY_TABLE": "Inventory",
    "IDEMPOTENCY_TABLE": "Idempotency",
    "IDEMPOTENCY_TTL_SECONDS": "3600",
    "CARTS_TABLE": "Carts",
    "ORDERS_TABLE": "Orders",
    "PAYMENTS_TABLE": "Payments",
    "PAYMENT_WINDOW_SECONDS": "300",
    "FULFILMENT_DELAY_SECONDS": "60",
    "FRAUD_MAX_AMOUNT": "100000",
    "FRAUD_VELOCITY_LIMIT": "3",
    "GUEST_CART_TTL_SECONDS": "86400",
    "USER_CART_TTL_SECONDS": "2592000",
    "PRICE_HOLD_SECONDS": "1800",
    "TAX_RATES_BPS": '{"US": 0}',
    "DEFAULT_TAX_REGION": "US",
    "SHIPPING_FLAT_FEE": "0",
    "FREE_SHIPPING_THRESHOLD": "0",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "unit",
}
MODELS = (Item, Stock, Cart, OrderRow, HoldRow, ReservationRow, PaymentRow)


def _forget_clients() -> None:
    # pynamodb keeps one connection per model class and our modules cache boto3 clients and settings:
    # each test gets fresh ones bound to its own moto mock.
    for model in MODELS:
        model._connection = None
    for cached in (settings, cart_settings, checkout_settings, payments.provider, payments._sfn,
                   checkout._sfn, checkout._idempotent_place):
        cached.cache_clear()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        # An endpoint override (e.g. from `python -m infra env`) would send moto's traffic to a real server.
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    _forget_clients()
    yield
    _forget_clients()


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The checkout's tables in moto's in-process DynamoDB, keyed exactly as template.yaml keys them, and a
    state machine for POST /checkout to start (moto records the execution; it does not run it)."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for logical_id, name in TABLES.items():
            properties = resources[logical_id]["Properties"]
            dynamodb.create_table(TableName=name, **{key: properties[key] for key in TABLE_SHAPE if key in properties})
        machine = boto3.client("stepfunctions").create_state_machine(
            name="checkout", definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
            roleArn="arn:aws:iam::123456789012:role/checkout",
        )  # fmt: skip
        monkeypatch.setenv("CHECKOUT_STATE_MACHINE_ARN", machine["stateMachineArn"])
        checkout_settings.cache_clear()
        yield dynamodb
