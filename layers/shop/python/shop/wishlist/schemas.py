"""What a buyer reads about their wishlist."""

from __future__ import annotations

from shop.validation import ViewModel


class WishlistEntryView(ViewModel):
    item_id: str
    added_at: str


class WishlistChange(ViewModel):
    item_id: str
    on_wishlist: bool  # after the request
    changed: bool  # false when the request found it so already (a repeat)


class WishlistItemView(ViewModel):
    item_id: str
    added_at: str
    name: str | None  # None once the item is gone from the catalog
    price: int | None  # the current price, minor units
    currency: str | None
    status: str  # the item's status (ACTIVE, INACTIVE) or GONE
    available: int  # units available now, every variant together
    in_stock: bool  # on sale with at least one unit available


class WishlistView(ViewModel):
    items: list[WishlistItemView]  # newest first
    count: int
    limit: int  # how many items a wishlist may hold
