"""Wishlist: a buyer's bounded list of items to watch, read back with current price and stock; the users
watching an item (whom a price drop or a restock notifies, shop.notifications); erasure of a user's list."""

from shop.wishlist.schemas import WishlistChange, WishlistItemView, WishlistView
from shop.wishlist.wishlist import add, erase, get, remove, wishlisted_by

__all__ = ["WishlistChange", "WishlistItemView", "WishlistView", "add", "erase", "get", "remove", "wishlisted_by"]
