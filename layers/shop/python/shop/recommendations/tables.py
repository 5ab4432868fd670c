"""The Recommendations table (pk, sk; TTL on expiresAt): the batch job's versioned output, the pointer that
says which version serves, and the near-real-time rows the event consumer keeps.

| pk | sk | what |
|---|---|---|
| `POINTER` | `CURRENT` | `version`: the version that serves (switched in one conditional write) |
| `<version>` | `MANIFEST` | what the version holds; written after its rows, before the pointer moves |
| `<version>#item#<itemId>` | `RELATED` | `boughtTogether`, `viewedTogether`: [[itemId, score], ...] |
| `<version>#user#<userId>` | `HOME` | `items`: the user's ALS affinities, [[itemId, score], ...] |
| `<version>#trending#<category or *>` | `TRENDING` | `items`: trending with time decay |
| `new#<category>` | `<createdAt>#<itemId>` | a category's new arrivals from ItemCreated (TTL) |
| `new#*#<0..7>` | `<createdAt>#<itemId>` | every category's, spread over NEW_ARRIVAL_SHARDS keys (TTL) |
| `bought#<userId>` | `<itemId>` | the user's recent purchases from OrderConfirmed (TTL) |

Lists are JSON text: the job writes them with boto3 from Spark's executors and the API reads them back
whole, so one attribute per list is both the cheapest write and read.
"""

from __future__ import annotations

import zlib

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from shop.config import recommendation_settings
from shop.dynamodb import TableName

POINTER, CURRENT, MANIFEST = "POINTER", "CURRENT", "MANIFEST"
RELATED, HOME, TRENDING = "RELATED", "HOME", "TRENDING"
ALL_CATEGORIES = "*"


def item_key(version: str, item_id: str) -> str:
    return f"{version}#item#{item_id}"


def user_key(version: str, user_id: str) -> str:
    return f"{version}#user#{user_id}"


def trending_key(version: str, category: str | None) -> str:
    return f"{version}#trending#{category or ALL_CATEGORIES}"


NEW_ARRIVAL_SHARDS = 8  # the all-categories list takes every listing's write: one key would be a hot partition


def new_arrivals_keys(category: str | None) -> list[str]:
    """The keys that hold a category's new arrivals (one), or every category's (NEW_ARRIVAL_SHARDS)."""
    if category:
        return [f"new#{category}"]
    return [f"new#{ALL_CATEGORIES}#{shard}" for shard in range(NEW_ARRIVAL_SHARDS)]


def new_arrival_key(category: str | None, item_id: str) -> str:
    """The one key an item's new-arrival row goes to: its category's, or its shard of every category's
    (a stable hash of the item id, so a redelivered ItemCreated rewrites the same row)."""
    keys = new_arrivals_keys(category)
    return keys[zlib.crc32(item_id.encode()) % len(keys)]


def bought_key(user_id: str) -> str:
    return f"bought#{user_id}"


class Recommendation(Model):
    class Meta:
        table_name = TableName(recommendation_settings, "recommendations_table")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    version = UnicodeAttribute(null=True)  # POINTER
    switched_at = UnicodeAttribute(null=True, attr_name="switchedAt")  # POINTER
    items = JSONAttribute(null=True)  # HOME, TRENDING: [[itemId, score], ...]
    bought_together = JSONAttribute(null=True, attr_name="boughtTogether")  # RELATED
    viewed_together = JSONAttribute(null=True, attr_name="viewedTogether")  # RELATED
    item_id = UnicodeAttribute(null=True, attr_name="itemId")  # new arrivals, purchases
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")  # new arrivals, purchases (TTL)
