"""Wishlists: add and remove items (idempotent, bounded), read them with the current price and stock, find
who wishlisted an item, erase a user's wishlist.

The size bound is kept exact under concurrent adds: each add is one transaction that puts the entry only if
it is new and raises the user's COUNT row only below the limit; a remove lowers it in the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import TransactWriteError

from shop import clock
from shop.catalog.tables import ITEM_ID_PREFIX, Item
from shop.config import notify_settings
from shop.dynamodb import cancellation, find, transaction
from shop.errors import ItemNotFoundError, WishlistFullError
from shop.identity import Caller, require_buyer
from shop.ids import is_id
from shop.inventory.shards import read_rows
from shop.inventory.tables import DEFAULT_VARIANT
from shop.wishlist.schemas import WishlistChange, WishlistItemView, WishlistView
from shop.wishlist.tables import COUNT, WishlistCount, WishlistEntry


def add(caller: Caller, item_id: str) -> WishlistChange:
    """Put the item on the caller's wishlist; a repeat changes nothing. ItemNotFoundError (404) for an
    unknown item, WishlistFullError (422) at the limit; a seller account is refused (a wishlist is shopping)."""
    require_buyer(caller)
    if not is_id(item_id, ITEM_ID_PREFIX) or find(Item, item_id) is None:
        raise ItemNotFoundError(details={"itemId": item_id})
    limit = notify_settings().wishlist_max_items
    entry = WishlistEntry(caller.user_id, item_id, item_id=item_id, added_at=clock.now_iso())
    counter = WishlistCount(caller.user_id, COUNT)
    try:
        with transaction() as writes:
            writes.save(entry, condition=WishlistEntry.sk.does_not_exist())
            below_limit = WishlistCount.entries.does_not_exist() | (WishlistCount.entries < limit)
            writes.update(counter, actions=[WishlistCount.entries.add(1)], condition=below_limit)
    except TransactWriteError as error:
        failed = cancellation(error).failed  # positions: puts first (the entry), then updates (the count)
        if 0 in failed:
            return WishlistChange(item_id=item_id, on_wishlist=True, changed=False)
        if 1 in failed:
            raise WishlistFullError(details={"limit": limit}) from None
        raise
    return WishlistChange(item_id=item_id, on_wishlist=True, changed=True)


def remove(caller: Caller, item_id: str) -> WishlistChange:
    """Take the item off the caller's wishlist; removing what is not there changes nothing (no error: the
    item may be gone from the catalog, and a repeated DELETE must answer like the first)."""
    require_buyer(caller)
    try:
        with transaction() as writes:
            writes.delete(WishlistEntry(caller.user_id, item_id), condition=WishlistEntry.sk.exists())
            writes.update(WishlistCount(caller.user_id, COUNT), actions=[WishlistCount.entries.add(-1)])
    except TransactWriteError as error:
        if 0 in cancellation(error).failed:
            return WishlistChange(item_id=item_id, on_wishlist=False, changed=False)
        raise
    return WishlistChange(item_id=item_id, on_wishlist=False, changed=True)


def get(caller: Caller) -> WishlistView:
    """The caller's wishlist, newest first, each item with its current price and stock: one query for the
    entries, one batch read of their items, one batch read of their stock rows (never a read per item)."""
    require_buyer(caller)
    entries = sorted(
        WishlistEntry.query(caller.user_id, WishlistEntry.sk.startswith(f"{ITEM_ID_PREFIX}_")),
        key=lambda entry: entry.added_at, reverse=True,
    )  # fmt: skip
    items = {item.item_id: item for item in Item.batch_get([entry.item_id for entry in entries])}
    stock_keys = [
        (item.item_id, variant)
        for item in items.values()
        for variant in ([v.variant_id for v in item.variants] or [DEFAULT_VARIANT])
    ]
    available: dict[str, int] = {}
    for (item_id, _), rows in read_rows(stock_keys, consistent=False).items():  # a sharded variant: its rows' sum
        available[item_id] = available.get(item_id, 0) + rows.total_available
    views = []
    for entry in entries:
        item = items.get(entry.item_id)
        units = available.get(entry.item_id, 0)
        views.append(
            WishlistItemView(
                item_id=entry.item_id,
                added_at=entry.added_at,
                name=item.name if item else None,
                price=int(item.price) if item else None,
                currency=item.currency if item else None,
                status=item.status if item else "GONE",
                available=units,
                in_stock=bool(item and item.status == "ACTIVE" and units > 0),
            )
        )
    return WishlistView(items=views, count=len(views), limit=notify_settings().wishlist_max_items)


def wishlisted_by(item_id: str) -> Iterator[str]:
    """The ids of the users whose wishlist holds the item (the byItem index, paged through)."""
    for entry in WishlistEntry.by_item.query(item_id):
        yield entry.user_id


def erase(user_id: str) -> int:
    """Delete every wishlist row of the user (entries and count); returns how many rows went."""
    rows = list(WishlistEntry.query(user_id, attributes_to_get=["userId", "sk"]))
    with WishlistEntry.batch_write() as batch:
        for row in rows:
            batch.delete(row)
    return len(rows)
