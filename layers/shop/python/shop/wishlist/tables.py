"""The Wishlist table: pk userId, sk the item id for an entry and COUNT for the caller's entry count.

Entries carry the item id again as `itemId`, so the GSI byItem (itemId, userId) finds who wishlisted an item
when its price drops or it comes back in stock; the COUNT row has no `itemId` and stays out of the index
(a sparse index: no hot "count" partition collecting every user's counter writes).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from shop.config import notify_settings
from shop.dynamodb import TableName

COUNT = "COUNT"  # the sort key of the row that counts a user's entries (the size bound is checked on it)


class ByItem(GlobalSecondaryIndex["WishlistEntry"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "byItem"
        projection = KeysOnlyProjection()

    item_id = UnicodeAttribute(hash_key=True, attr_name="itemId")
    user_id = UnicodeAttribute(range_key=True, attr_name="userId")


class WishlistEntry(Model):
    class Meta:
        table_name = TableName(notify_settings, "wishlist_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True)  # the item id
    item_id = UnicodeAttribute(attr_name="itemId")
    added_at = UnicodeAttribute(attr_name="addedAt")
    by_item = ByItem()


class WishlistCount(Model):
    class Meta:
        table_name = TableName(notify_settings, "wishlist_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True, default=COUNT)
    entries = NumberAttribute(default=0)
