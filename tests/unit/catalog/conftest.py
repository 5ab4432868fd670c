"""Catalog onboarding unit tests: moto's in-process DynamoDB and S3, tables keyed as template.yaml keys them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.template import load_template
from shop import imports
from shop.config import catalog_settings, settings
from tests.unit.shop.apigw_events import ROOT

TABLES = {
    "ItemsTable": "Items",
    "InventoryTable": "Inventory",
    "IdempotencyTable": "Idempotency",
    "SkuClaimsTable": "SkuClaims",
    "ImportsTable": "Imports",
}
TABLE_SHAPE = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
BUCKET = "imports-unit"
ENVIRONMENT = {
    "ITEMS_TABLE": "Items",
    "INVENTORY_TABLE": "Inventory",
    "IDEMPOTENCY_TABLE": "Idempotency",
    "IDEMPOTENCY_TTL_SECONDS": "3600",
    "SKU_CLAIMS_TABLE": "SkuClaims",
    "IMPORTS_TABLE": "Imports",
    "IMPORTS_BUCKET": BUCKET,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "unit",
}


def _clear_caches() -> None:
    settings.cache_clear()
    catalog_settings.cache_clear()
    imports._s3.cache_clear()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture
def aws() -> Iterator[Any]:
    """The onboarding tables and the imports bucket; yields the DynamoDB client."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for logical_id, name in TABLES.items():
            properties = resources[logical_id]["Properties"]
            dynamodb.create_table(TableName=name, **{key: properties[key] for key in TABLE_SHAPE if key in properties})
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield dynamodb
