"""Catalog onboarding unit tests: moto's in-process DynamoDB and S3, tables keyed as template.yaml keys them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shop.aws import forget_clients
from shop.config import catalog_settings, settings
from tests.unit.moto_tables import mocked_tables, use_environment
from tests.unit.shop.conftest import lambda_context

__all__ = ["environment", "lambda_context", "tables"]

TABLES = {
    "ItemsTable": "Items",
    "InventoryTable": "Inventory",
    "IdempotencyTable": "Idempotency",
    "SkuClaimsTable": "SkuClaims",
    "ImportsTable": "Imports",
}
BUCKET = "imports-unit"
CATALOG_ENVIRONMENT = {"SKU_CLAIMS_TABLE": "SkuClaims", "IMPORTS_TABLE": "Imports", "IMPORTS_BUCKET": BUCKET}


def _clear_caches() -> None:
    settings.cache_clear()
    catalog_settings.cache_clear()
    forget_clients()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_environment(monkeypatch, CATALOG_ENVIRONMENT)
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture
def tables() -> Iterator[Any]:
    """The onboarding tables and the imports bucket; yields the DynamoDB client."""
    with mocked_tables(TABLES) as dynamodb:
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield dynamodb
