"""Unit tests of the shop layer and its handlers: no network; AWS is moto's in-process mock where needed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shop.config import settings
from tests.unit.moto_tables import mocked_tables, use_environment
from tests.unit.shop.apigw_events import LambdaContext

TABLES = {"ItemsTable": "Items", "InventoryTable": "Inventory", "IdempotencyTable": "Idempotency"}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_environment(monkeypatch)
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture
def tables() -> Iterator[Any]:
    """The catalog's tables in moto's in-process DynamoDB, keyed exactly as template.yaml keys them."""
    with mocked_tables(TABLES) as dynamodb:
        yield dynamodb


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
