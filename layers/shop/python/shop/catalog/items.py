"""Items: sellers onboard (list) items, change and (de)activate their own, and restock them; anyone reads them.

Onboarding validates and normalises the seller's body (shop.catalog.schemas), applies the marketplace's
rules (shop.catalog.compliance), then writes the item, its stock rows and its SKU claim in one
transaction. Every later change is conditional on the item's version.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pynamodb.exceptions import TransactWriteError, UpdateError

from shop import clock
from shop.catalog import compliance
from shop.catalog.schemas import ItemChanges, ItemView, NewItem, VariantView
from shop.catalog.tables import ITEM_ID_PREFIX, Item, SkuClaim, Variant
from shop.dynamodb import cancellation, condition_failed, find, plain_map, transaction
from shop.errors import (
    DuplicateSkuError,
    ForbiddenError,
    ItemNotFoundError,
    StockRowNotFoundError,
    ValidationFailedError,
    VersionConflictError,
)
from shop.idempotency import Once
from shop.identity import Caller, require_seller
from shop.ids import is_id, new_id
from shop.inventory import DEFAULT_VARIANT
from shop.inventory import shards as stock_shards
from shop.inventory.schemas import StockView
from shop.inventory.tables import Stock

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"  # hidden from search, still readable by id (orders keep pointing at it)
_STATUS_RETRIES = 3
# Keys are per seller (two sellers may pick the same key); the prefix predates the word "onboard" and stays:
# it is part of every stored key.
_ONBOARD_ONCE: Once[ItemView] = Once(
    key_prefix="catalog.create_item", key_jmespath="[sellerId, idempotencyKey]", payload_jmespath="item",
    output=ItemView,
)  # fmt: skip


def onboard_item(
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
    require_seller(seller, "list items")
    if idempotency_key is None:
        return _onboard(seller.user_id, new_item)

    request = {
        "sellerId": seller.user_id,
        "idempotencyKey": idempotency_key,
        "item": new_item.model_dump(mode="json", by_alias=True),
    }
    return _ONBOARD_ONCE.run(request, lambda: _onboard(seller.user_id, new_item), lambda_context=lambda_context)


_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="catalog-read")


def get_item(item_id: str) -> ItemView:
    """The item with what is available now, per variant and in total (strongly consistent reads)."""
    if not is_id(item_id, ITEM_ID_PREFIX):
        # Not one of ours: answer as for an unknown id, and never send junk keys to DynamoDB.
        raise ItemNotFoundError(details={"itemId": item_id})
    # The item and its stock rows are independent reads: overlapping them halves the latency of the
    # busiest public read path (one round trip instead of two).
    stock = _READS.submit(lambda: stock_shards.with_shards(Stock.query(item_id, consistent_read=True)))
    return _view(load_item(item_id), stock.result())


def load_item(item_id: str) -> Item:
    """The item's row (strongly consistent); ItemNotFoundError for an unknown id or one that is not an item id."""
    item = find(Item, item_id) if is_id(item_id, ITEM_ID_PREFIX) else None
    if item is None:
        raise ItemNotFoundError(details={"itemId": item_id})
    return item


def onboard_item_once(seller_id: str, new_item: NewItem, *, item_id: str) -> tuple[ItemView, bool]:
    """Onboard the item under an id the caller derived (e.g. from an import row); (item, created?).

    A retry with the same id creates nothing: the item already written is returned with created=False.
    """
    try:
        return _onboard(seller_id, new_item, item_id=item_id), True
    except TransactWriteError as error:
        if 0 not in cancellation(error).failed:
            raise
    existing = get_item(item_id)
    if existing.seller_id != seller_id:  # an id collision, not a retry: never hand out someone else's item
        raise RuntimeError(f"item id {item_id} belongs to another seller")
    return existing, False


def update_item(caller: Caller, item_id: str, changes: ItemChanges) -> ItemView:
    """Apply a seller's changes to their item if it is still at the version they read (else 409).

    Only the fields sent are written (one conditional UpdateItem), so writers of other fields, such as
    the image pipeline, are never overwritten; the result passes the same compliance rules as a new item.
    """
    item = _owned_item(caller, item_id)
    if int(item.version) != changes.version:
        raise _conflict(item_id, changes.version, int(item.version))
    fields = changes.changed_fields()
    merged = {name: getattr(changes, name) if name in fields else getattr(item, name) for name in _CHANGEABLE}
    variants = list(item.variants)
    if changes.variants is not None:
        variants = _reprice_variants(variants, changes)
    listed = {**merged, **{name: plain_map(merged[name]) for name in ("attributes", "specifications")}}
    _check_compliance(listed, int(merged["price"]), [int(v.price) for v in variants])
    actions: list[Any] = [Item.updated_at.set(clock.now_iso())]
    for name in sorted(fields - {"variants"}):
        attribute = getattr(Item, name)
        value = getattr(changes, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if changes.variants is not None:
        actions.append(Item.variants.set(variants))
    try:
        item.update(actions=actions)  # pynamodb adds "version = read version" and increments it
    except UpdateError as error:
        if not condition_failed(error):
            raise
        raise _conflict(item_id, changes.version, None) from None
    return _view(item, stock_shards.with_shards(Stock.query(item_id, consistent_read=True)))


def set_status(caller: Caller, item_id: str, status: str) -> ItemView:
    """Deactivate (INACTIVE) or reactivate (ACTIVE) an item; already in that status, nothing is written."""
    for _ in range(_STATUS_RETRIES):
        item = _owned_item(caller, item_id)
        if item.status != status:
            try:
                item.update(actions=[Item.status.set(status), Item.updated_at.set(clock.now_iso())])
            except UpdateError as error:
                if not condition_failed(error):
                    raise
                continue  # another change landed between the read and the write: read it and try again
        return _view(item, stock_shards.with_shards(Stock.query(item_id, consistent_read=True)))
    raise _conflict(item_id, None, None)


def restock(seller: Caller, item_id: str, variant_id: str | None, quantity: int | None,
            shards: int | None = None) -> StockView:  # fmt: skip
    """Add units to one of the seller's own variants (the item's owner is checked in the same transaction),
    and/or switch it to `shards` stock rows first (shop.inventory.shards). Units are split over the active
    shards, so a restock of a sharded variant writes no single row with all of them."""
    require_seller(seller, "restock items")
    variant = variant_id or DEFAULT_VARIANT
    if shards is not None:
        _check_owner(seller, item_id, variant)
        stock_shards.set_shards(item_id, variant, shards)
    if quantity is not None:
        home = find(Stock, item_id, variant)
        active = max(int(home.shards or 1), 1) if home is not None else 1
        _add_units(seller, item_id, variant, stock_shards.plan_moves([quantity] + [0] * (active - 1), active),
                   quantity)  # fmt: skip
    rows = stock_shards.read_rows([(item_id, variant)])[(item_id, variant)]
    return StockView(item_id=item_id, variant_id=variant, available=rows.total_available, reserved=rows.reserved,
                     sold=rows.sold, shards=rows.active)  # fmt: skip


def _check_owner(seller: Caller, item_id: str, variant: str) -> None:
    """The restock's answers for someone else's item or an unknown variant, before a switch of shards: one
    transaction of two condition checks (this function may condition-check items, never read them)."""
    try:
        with transaction() as writes:
            writes.condition_check(Item, item_id, condition=Item.seller_id == seller.user_id)
            writes.condition_check(Stock, item_id, variant, condition=Stock.item_id.exists())
    except TransactWriteError as error:
        failed = cancellation(error).failed
        if 0 in failed:
            raise ItemNotFoundError(details={"itemId": item_id}) from error
        if 1 in failed:
            raise StockRowNotFoundError(details={"itemId": item_id, "variantId": variant}) from error
        raise


def _add_units(seller: Caller, item_id: str, variant: str, spread: list[tuple[int, int, int]], quantity: int) -> None:
    """`quantity` units onto the variant's rows: all on the home row, or as `spread` (moves of a quantity on
    row 0 to an even spread over the shards) says."""
    per_row: dict[int, int] = {0: quantity}
    for source, target, units in spread:
        per_row[source] -= units
        per_row[target] = per_row.get(target, 0) + units
    now = clock.now_iso()
    try:
        with transaction() as writes:
            writes.condition_check(Item, item_id, condition=Item.seller_id == seller.user_id)
            for shard, units in sorted(per_row.items()):
                if units:
                    writes.update(
                        Stock(stock_shards.row_key(item_id, shard), variant),
                        actions=[Stock.available.add(units), Stock.stocked.add(units), Stock.updated_at.set(now)],
                        condition=Stock.item_id.exists(),
                    )  # fmt: skip
    except TransactWriteError as error:
        failed = cancellation(error).failed
        if 0 in failed:
            # Unknown item and someone else's item answer alike (404, where other item routes say 403): telling
            # them apart would need a read of the item, which this function is not allowed (template IAM).
            raise ItemNotFoundError(details={"itemId": item_id}) from error
        if failed:
            raise StockRowNotFoundError(details={"itemId": item_id, "variantId": variant}) from error
        raise


_CHANGEABLE = ("name", "description", "price", "brand", "category", "tags", "attributes", "specifications")
_LISTED = ("name", "description", "brand", "category", "tags", "attributes", "specifications")  # texts checked


def _owned_item(caller: Caller, item_id: str) -> Item:
    require_seller(caller, "change items")
    item = load_item(item_id)
    if item.seller_id != caller.user_id:
        # 403, not 404: items are public (GET /items/{id}), so hiding this one's existence protects nothing.
        raise ForbiddenError("only the seller who listed this item can change it", details={"itemId": item_id})
    return item


def _conflict(item_id: str, expected: int | None, current: int | None) -> VersionConflictError:
    return VersionConflictError(details={"itemId": item_id, "expectedVersion": expected, "currentVersion": current})


def _reprice_variants(variants: list[Variant], changes: ItemChanges) -> list[Variant]:
    by_id = {variant.variant_id: variant for variant in variants}
    unknown = [
        {"field": f"variants[{index}].variantId", "message": "the item has no such variant", "type": "unknown_variant"}
        for index, change in enumerate(changes.variants or [])
        if change.variant_id not in by_id
    ]
    if unknown:
        raise ValidationFailedError(details={"fields": unknown})
    for change in changes.variants or []:
        by_id[change.variant_id].price = change.price
    return variants


def _prices(price: int, variant_prices: Iterable[int]) -> dict[str, int]:
    prices = {"price": price}
    for index, variant_price in enumerate(variant_prices):
        prices[f"variants[{index}].price"] = variant_price
    return prices


def _check_compliance(
    listed: Mapping[str, Any], price: int, variant_prices: Iterable[int], variant_attributes: Iterable[Any] = ()
) -> None:
    """The marketplace's rules (shop.catalog.compliance) on an item's buyer-visible fields and every price."""
    texts = compliance.texts_of(**{name: listed[name] for name in _LISTED}, variant_attributes=variant_attributes)
    prices = _prices(price, variant_prices)
    compliance.check_listing(compliance.Listing(texts=texts, prices=prices, category=listed["category"]))


def _check_new_item(new_item: NewItem) -> None:
    _check_compliance(
        {name: getattr(new_item, name) for name in _LISTED},
        new_item.price,
        [new_item.price if v.price is None else v.price for v in new_item.variants],
        [variant.attributes for variant in new_item.variants],
    )


def sku_claim_id(seller_id: str, sku: str) -> str:
    # Upper-cased: "ab-1" and "AB-1" are the same SKU to a seller and to a warehouse.
    return f"sku#{seller_id}#{sku.upper()}"


def _onboard(seller_id: str, new_item: NewItem, item_id: str | None = None) -> ItemView:
    _check_new_item(new_item)
    now = clock.now_iso()
    item_id = item_id or new_id(ITEM_ID_PREFIX)
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
            Stock(item_id, variant_id, available=variant.stock, stocked=variant.stock, updated_at=now)
            for variant_id, variant in zip(variant_ids, new_item.variants, strict=True)
        ]
    else:
        stock = [
            Stock(item_id, DEFAULT_VARIANT, available=new_item.quantity, stocked=new_item.quantity, updated_at=now)
        ]

    claim = None
    if new_item.sku is not None:
        claim = SkuClaim(sku_claim_id(seller_id, new_item.sku), item_id=item_id, claimed_at=now)
    try:
        # The SKU claim commits with the item or not at all: no item without its claim, no orphan claim.
        with transaction() as writes:
            writes.save(item, condition=Item.item_id.does_not_exist())
            for row in stock:
                writes.save(row, condition=Stock.item_id.does_not_exist())
            if claim is not None:
                writes.save(claim, condition=SkuClaim.claim_id.does_not_exist())
    except TransactWriteError as error:
        failed = cancellation(error).failed
        if claim is not None and failed == {len(stock) + 1}:
            raise _duplicate_sku(claim.claim_id, new_item.sku or "") from None
        raise
    return _view(item, {row.variant_id: int(row.available) for row in stock})


def _duplicate_sku(claim_id: str, sku: str) -> DuplicateSkuError:
    claim = find(SkuClaim, claim_id)  # None: released in the meantime; the seller may simply retry
    holder = None if claim is None else claim.item_id
    return DuplicateSkuError(f"you already list an item with SKU {sku!r}", details={"sku": sku, "itemId": holder})


def _variant_ids(new_item: NewItem) -> list[str]:
    """The variants' ids: the seller's own, or the first free of v1, v2, ... for those without one."""
    taken = {variant.variant_id for variant in new_item.variants if variant.variant_id}
    free = (f"v{n}" for n in itertools.count(1) if f"v{n}" not in taken)
    return [variant.variant_id or next(free) for variant in new_item.variants]


def _view(item: Item, available: dict[str, int]) -> ItemView:
    """The item with each variant's available units (summed over its stock shards: shards.with_shards)."""
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
