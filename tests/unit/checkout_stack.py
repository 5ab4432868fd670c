"""The checkout stack for unit tests of checkout, orders, payments and inventory: its environment and its tables
in moto's in-process AWS (no network). Each of those test folders' conftest uses these fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from shop import aws, payments
from shop.accounts.profiles import AddressRow, ProfileRow
from shop.cart.tables import Cart
from shop.catalog.tables import Item
from shop.config import account_settings, cart_settings, checkout_settings, settings
from shop.idempotency import forget_wiring
from shop.inventory.tables import ReservationRow, Stock
from shop.orders.tables import HoldRow, OrderRow
from shop.payments.provider import LedgerEntry
from shop.payments.tables import PaymentRow
from tests.unit.moto_tables import mocked_tables, use_environment

TABLES = {"ItemsTable": "Items", "InventoryTable": "Inventory", "CartsTable": "Carts",
          "IdempotencyTable": "Idempotency", "OrdersTable": "Orders", "PaymentsTable": "Payments",
          "PaymentProviderLedgerTable": "PaymentProviderLedger", "ProfilesTable": "Profiles"}  # fmt: skip
CHECKOUT_ENVIRONMENT = {
    "CARTS_TABLE": "Carts",
    "ORDERS_TABLE": "Orders",
    "PAYMENTS_TABLE": "Payments",
    "PROVIDER_LEDGER_TABLE": "PaymentProviderLedger",
    "PROFILES_TABLE": "Profiles",  # checkout reads the buyer's default address
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
}
MODELS = (Item, Stock, Cart, OrderRow, HoldRow, ReservationRow, PaymentRow, LedgerEntry, ProfileRow, AddressRow)


def _forget_clients() -> None:
    # pynamodb keeps one connection per model class and our modules cache boto3 clients and settings:
    # each test gets fresh ones bound to its own moto mock.
    for model in MODELS:
        model._connection = None
    for cached in (settings, cart_settings, checkout_settings, account_settings, payments.provider, aws.stepfunctions):
        cached.cache_clear()
    forget_wiring()
    parameters.clear_caches()  # the checkout key, read through powertools parameters


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_environment(monkeypatch, CHECKOUT_ENVIRONMENT)
    _forget_clients()
    yield
    _forget_clients()


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The checkout's tables in moto's in-process DynamoDB, keyed exactly as template.yaml keys them, and a
    state machine for POST /checkout to start (moto records the execution; it does not run it)."""
    with mocked_tables(TABLES) as dynamodb:
        machine = boto3.client("stepfunctions").create_state_machine(
            name="checkout", definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
            roleArn="arn:aws:iam::123456789012:role/checkout",
        )  # fmt: skip
        monkeypatch.setenv("CHECKOUT_STATE_MACHINE_ARN", machine["stateMachineArn"])
        key = boto3.client("secretsmanager").create_secret(Name="checkout-key", SecretString="k" * 64)
        monkeypatch.setenv("CHECKOUT_KEY_SECRET_ARN", key["ARN"])
        checkout_settings.cache_clear()
        yield dynamodb
