"""What the unit tests that use moto's in-process AWS share: an isolated environment and the template's tables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.cloudformation.template import load_template
from tests.unit.shop.apigw_events import ROOT

TABLE_SHAPE = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
BASE_ENVIRONMENT = {
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


def use_environment(monkeypatch: pytest.MonkeyPatch, extra: dict[str, str] | None = None) -> None:
    """The base environment plus `extra`, with nothing that could send moto's traffic to a real server."""
    for name in list(os.environ):
        # An endpoint override (e.g. from `python -m infra env`) would send moto's traffic to a real server.
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    for name, value in {**BASE_ENVIRONMENT, **(extra or {})}.items():
        monkeypatch.setenv(name, value)


@contextmanager
def mocked_tables(tables: dict[str, str]) -> Iterator[Any]:
    """moto's in-process AWS with the given template tables created; yields the DynamoDB client."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb, tables)
        yield dynamodb


def create_tables(dynamodb: Any, tables: dict[str, str]) -> None:
    """Create each template table (logical id → name) keyed exactly as template.yaml keys it."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    for logical_id, name in tables.items():
        properties = resources[logical_id]["Properties"]
        dynamodb.create_table(TableName=name, **{key: properties[key] for key in TABLE_SHAPE if key in properties})
