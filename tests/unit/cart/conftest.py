"""Unit tests of the cart: pure pricing rules, and the cart against moto's in-process DynamoDB (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shop.config import cart_settings, settings
from tests.unit.moto_tables import mocked_tables, use_environment

TABLES = {"ItemsTable": "Items", "InventoryTable": "Inventory", "CartsTable": "Carts"}
CART_ENVIRONMENT = {
    "CARTS_TABLE": "Carts",
    "GUEST_CART_TTL_SECONDS": "86400",
    "USER_CART_TTL_SECONDS": "2592000",
    "PRICE_HOLD_SECONDS": "1800",
    "TAX_RATES_BPS": '{"US": 0, "US-CA": 725, "DE": 1900}',
    "DEFAULT_TAX_REGION": "US",
    "SHIPPING_FLAT_FEE": "499",
    "FREE_SHIPPING_THRESHOLD": "5000",
}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_environment(monkeypatch, CART_ENVIRONMENT)
    settings.cache_clear()
    cart_settings.cache_clear()
    yield
    settings.cache_clear()
    cart_settings.cache_clear()


@pytest.fixture
def tables() -> Iterator[Any]:
    """Items, Inventory and Carts in moto's in-process DynamoDB, keyed exactly as template.yaml keys them."""
    with mocked_tables(TABLES) as dynamodb:
        yield dynamodb
