"""Unit tests of the shop layer and its handlers: no network; AWS is moto's in-process mock where needed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.template import load_template
from shop.config import settings
from tests.unit.shop.apigw_events import ROOT, LambdaContext

TABLES = {"ItemsTable": "Items", "InventoryTable": "Inventory", "IdempotencyTable": "Idempotency"}
TABLE_SHAPE = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
ENVIRONMENT = {
    "ITEMS_TABLE": "Items",
    "INVENTORY_TABLE": "Inventory",
    "IDEMPOTENCY_TABLE": "Idempotency",
    "IDEMPOTENCY_TTL_SECONDS": "3600",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "unit",
}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        # An endpoint override (e.g. from `python -m infra env`) would send moto's traffic to a real server.
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture
def tables() -> Iterator[Any]:
    """The catalog's tables in moto's in-process DynamoDB, keyed exactly as template.yaml keys them."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for logical_id, name in TABLES.items():
            properties = resources[logical_id]["Properties"]
            dynamodb.create_table(
                TableName=name,
                **{key: properties[key] for key in TABLE_SHAPE if key in properties},
            )
        yield dynamodb


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
