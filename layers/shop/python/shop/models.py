"""The DynamoDB tables as pynamodb models (attribute names in the tables are camelCase, like the API).

Endpoints: no Meta.host is set, so pynamodb lets botocore resolve the endpoint, and botocore honours
AWS_ENDPOINT_URL_DYNAMODB (then AWS_ENDPOINT_URL); that is how the same code reaches DynamoDB Local, moto
or AWS. The region comes from AWS_REGION / AWS_DEFAULT_REGION the same way.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shop.config import settings


class _TableName:
    """A Meta.table_name read from the settings on use, so importing the models needs no environment."""

    def __init__(self, setting: str) -> None:
        self.setting = setting

    def __get__(self, instance: object, owner: type | None = None) -> str:
        value: str = getattr(settings(), self.setting)
        return value


class Variant(MapAttribute[str, Any]):
    variant_id = UnicodeAttribute(attr_name="variantId")
    sku = UnicodeAttribute(null=True)
    attributes = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    price = NumberAttribute()


class Item(Model):
    """ItemsTable: one row per item (pk itemId; GSI bySeller on sellerId + createdAt)."""

    class Meta:
        table_name = _TableName("items_table")

    item_id = UnicodeAttribute(hash_key=True, attr_name="itemId")
    seller_id = UnicodeAttribute(attr_name="sellerId")
    name = UnicodeAttribute()
    description = UnicodeAttribute()
    price = NumberAttribute()
    currency = UnicodeAttribute()
    sku = UnicodeAttribute(null=True)
    brand = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    tags = ListAttribute[str](default=list)
    attributes = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    specifications = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    variants = ListAttribute[Variant](of=Variant, default=list)
    images = ListAttribute[str](default=list)
    status = UnicodeAttribute()
    version = VersionAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")  # ISO-8601 UTC with "Z": sorts as time
    updated_at = UnicodeAttribute(attr_name="updatedAt")


class Stock(Model):
    """InventoryTable: units available per item variant (pk itemId, sk variantId; "default" without variants)."""

    class Meta:
        table_name = _TableName("inventory_table")

    item_id = UnicodeAttribute(hash_key=True, attr_name="itemId")
    variant_id = UnicodeAttribute(range_key=True, attr_name="variantId")
    available = NumberAttribute()
    updated_at = UnicodeAttribute(attr_name="updatedAt")


@cache
def _connection() -> Connection:
    # One connection (and so one botocore client) per process: creating a client costs milliseconds.
    return Connection()


def transaction() -> TransactWrite:
    """A write transaction: every save/update/delete inside it commits together or not at all."""
    return TransactWrite(connection=_connection())
