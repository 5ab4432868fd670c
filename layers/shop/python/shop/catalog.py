"""The catalog: sellers list items, anyone reads them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.catalog_schemas import DEFAULT_VARIANT, ItemView, NewItem, VariantView
from shop.config import settings
from shop.errors import (
    ForbiddenError,
    IdempotencyKeyReusedError,
    ItemNotFoundError,
    RequestInProgressError,
)
from shop.identity import Caller
from shop.ids import is_id, new_id
from shop.models import Item, Stock, Variant, transaction

ITEM_ID_PREFIX = "itm"


def create_item(
    seller: Caller,
    new_item: NewItem,
    *,
    idempotency_key: str | None = None,
    lambda_context: LambdaContext | None = None,
) -> ItemView:
    """Put a new item on sale: the item and its stock rows are written in one transaction.

    With an idempotency key, a retry of the same request (same seller, key and body) returns the first
    result without writing again; the same key with another body is refused. The Lambda context lets a
    request cut off by the function's timeout release its key early instead of blocking it until expiry.
    """
    if not seller.is_seller:
        raise ForbiddenError("only sellers can list items")
    if idempotency_key is None:
        return _create_item(seller.user_id, new_item)

    config, create_once = _idempotent_create()
    config.lambda_context = lambda_context  # this invocation's, never a previous one's
    request = {
        "sellerId": seller.user_id,
        "idempotencyKey": idempotency_key,
        "item": new_item.model_dump(mode="json", by_alias=True),
    }
    try:
        return create_once(seller.user_id, new_item, request=request)
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReusedError() from error
    except IdempotencyAlreadyInProgressError as error:
        raise RequestInProgressError() from error


_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="catalog-read")


def get_item(item_id: str) -> ItemView:
    """The item with what is available now, per variant and in total (strongly consistent reads)."""
    if not is_id(item_id, ITEM_ID_PREFIX):
        # Not one of ours: answer as for an unknown id, and never send junk keys to DynamoDB.
        raise ItemNotFoundError(details={"itemId": item_id})
    # The item and its stock rows are independent reads: overlapping them halves the latency of the
    # busiest public read path (one round trip instead of two).
    stock = _READS.submit(lambda: list(Stock.query(item_id, consistent_read=True)))
    try:
        item = Item.get(item_id, consistent_read=True)
    except Item.DoesNotExist:
        raise ItemNotFoundError(details={"itemId": item_id}) from None
    return _view(item, stock.result())


def _create_item(seller_id: str, new_item: NewItem) -> ItemView:
    now = _now()
    item_id = new_id(ITEM_ID_PREFIX)
    variant_ids = _variant_ids(new_item)
    item = Item(
        item_id,
        seller_id=seller_id,
        name=new_item.name,
        description=new_item.description,
        price=new_item.price,
        currency=new_item.currency,
        sku=new_item.sku,
        brand=new_item.brand,
        category=new_item.category,
        tags=new_item.tags,
        attributes=new_item.attributes,
        specifications=new_item.specifications,
        variants=[
            Variant(  # type: ignore[no-untyped-call]  # pynamodb leaves MapAttribute.__init__ untyped
                variant_id=variant_id,
                sku=variant.sku,
                attributes=variant.attributes,
                price=new_item.price if variant.price is None else variant.price,
            )
            for variant_id, variant in zip(variant_ids, new_item.variants, strict=True)
        ],
        images=[],
        status="ACTIVE",
        created_at=now,
        updated_at=now,
    )
    if new_item.variants:
        stock = [
            Stock(item_id, variant_id, available=variant.stock, updated_at=now)
            for variant_id, variant in zip(variant_ids, new_item.variants, strict=True)
        ]
    else:
        stock = [Stock(item_id, DEFAULT_VARIANT, available=new_item.quantity, updated_at=now)]

    with transaction() as writes:
        writes.save(item, condition=Item.item_id.does_not_exist())
        for row in stock:
            writes.save(row, condition=Stock.item_id.does_not_exist())
    return _view(item, stock)


def _variant_ids(new_item: NewItem) -> list[str]:
    """The variants' ids: the seller's own, or the first free of v1, v2, ... for those without one."""
    taken = {variant.variant_id for variant in new_item.variants if variant.variant_id}
    free = (f"v{n}" for n in itertools.count(1) if f"v{n}" not in taken)
    return [variant.variant_id or next(free) for variant in new_item.variants]


def _view(item: Item, stock: Iterable[Stock]) -> ItemView:
    available = {row.variant_id: int(row.available) for row in stock}
    return ItemView(
        item_id=item.item_id,
        seller_id=item.seller_id,
        name=item.name,
        description=item.description,
        price=int(item.price),
        currency=item.currency,
        sku=item.sku,
        brand=item.brand,
        category=item.category,
        tags=list(item.tags),
        attributes=dict(item.attributes.attribute_values),
        specifications=dict(item.specifications.attribute_values),
        variants=[
            VariantView(
                variant_id=variant.variant_id,
                sku=variant.sku,
                attributes=dict(variant.attributes.attribute_values),
                price=int(variant.price),
                available=available.get(variant.variant_id, 0),
            )
            for variant in item.variants
        ],
        images=list(item.images),
        status=item.status,
        version=int(item.version),
        created_at=item.created_at,
        updated_at=item.updated_at,
        available=sum(available.values()),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@cache
def _idempotent_create() -> tuple[IdempotencyConfig, Callable[..., ItemView]]:
    # Built on first use, not at import: the persistence layer creates a boto3 client and reads settings.
    config = IdempotencyConfig(
        event_key_jmespath="[sellerId, idempotencyKey]",  # keys are per seller: two sellers may pick the same
        payload_validation_jmespath="item",
        expires_after_seconds=settings().idempotency_ttl_seconds,
    )
    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table)

    def create_once(seller_id: str, new_item: NewItem, *, request: dict[str, Any]) -> ItemView:
        return _create_item(seller_id, new_item)

    created: Callable[..., ItemView] = idempotent_function(
        create_once,
        data_keyword_argument="request",
        persistence_store=persistence,
        config=config,
        output_serializer=PydanticSerializer(ItemView),
        key_prefix="catalog.create_item",
    )
    return config, created
