"""pynamodb reaches whichever DynamoDB the standard AWS variables name, and tables come from the settings."""

from __future__ import annotations

from pynamodb.connection import Connection

from shop.catalog.tables import Item
from shop.config import settings
from shop.inventory.tables import Stock


def test_pynamodb_honours_the_dynamodb_endpoint_variable(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
    assert Item.Meta.host is None  # nothing pinned: botocore resolves the endpoint
    assert Connection(host=Item.Meta.host).client.meta.endpoint_url == "http://127.0.0.1:8000"


def test_table_names_are_read_from_the_environment_on_use(monkeypatch):
    assert (Item.Meta.table_name, Stock.Meta.table_name) == ("Items", "Inventory")
    monkeypatch.setenv("ITEMS_TABLE", "stack-ItemsTable-ABC")
    settings.cache_clear()
    assert Item.Meta.table_name == "stack-ItemsTable-ABC"
