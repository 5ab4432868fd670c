"""Synthetic behaviour with planted patterns, for the job's tests and the benchmark.

The shoppers: each has a favourite category and mostly browses and buys there. Planted in it:
- bought together: in every category, a buyer of item 2k (k < PAIRS) also buys item 2k+1 (PAIR_FOLLOW_RATE);
- viewed together: whoever views item 2k+20 views item 2k+21 the same day;
- trending: the TRENDING_CATEGORY gets a burst of views and carts in the last three days.
Rows are the lake's (shop.recommendations.lake.SCHEMA), so they can be written as Parquet like the lake writer
does, or given to Spark directly.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PAIRS = 5
PAIR_FOLLOW_RATE = 0.8
TRENDING_CATEGORY = "cat_03"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    users: int = 400
    categories: int = 8
    items_per_category: int = 60
    days: int = 28
    seed: int = 7

    def category(self, index: int) -> str:
        return f"cat_{index:02d}"

    def item(self, category: int, index: int) -> str:
        return f"item_{category:02d}_{index:03d}"

    def category_of(self, item_id: str) -> str:
        return f"cat_{item_id.split('_')[1]}"


def bought_pair(world: World, category: int, k: int) -> tuple[str, str]:
    return world.item(category, 2 * k), world.item(category, 2 * k + 1)


def viewed_pair(world: World, category: int, k: int) -> tuple[str, str]:
    return world.item(category, 2 * k + 20), world.item(category, 2 * k + 21)


def generate(world: World, sessions_per_user: int = 6) -> Iterator[dict[str, Any]]:
    """The rows of every user's sessions, then the trending burst; deterministic for a world."""
    rng = random.Random(world.seed)  # noqa: S311 - reproducible test data, not secrets
    ids = uuid.UUID(int=rng.getrandbits(128))

    def row(event_type: str, user: str, item: str | None, moment: datetime, **extra: Any) -> dict[str, Any]:
        nonlocal ids
        ids = uuid.UUID(int=(ids.int * 6364136223846793005 + 1442695040888963407) % 2**128)
        return {"eventId": str(ids), "eventType": event_type, "schemaVersion": 1, "occurredAt": moment,
                "userId": user, "itemId": item, "category": world.category_of(item) if item else None,
                "term": extra.get("term"), "resultsShown": extra.get("resultsShown"),
                "quantity": extra.get("quantity"), "orderId": extra.get("orderId")}  # fmt: skip

    # Popular items: a few best sellers in every category, bought by anyone (the baseline's strength).
    best_sellers = [world.item(c, 59) for c in range(world.categories)]
    for u in range(world.users):
        user = f"user_{u:05d}"
        favourite = rng.randrange(world.categories)
        for _ in range(sessions_per_user):
            moment = NOW - timedelta(days=rng.uniform(0, world.days))
            category = favourite if rng.random() < 0.85 else rng.randrange(world.categories)
            for _ in range(rng.randint(2, 5)):
                index = rng.randrange(world.items_per_category)
                viewed = world.item(category, index)
                moment += timedelta(minutes=rng.uniform(1, 10))
                yield row("ItemViewed", user, viewed, moment)
                if 20 <= index < 20 + 2 * PAIRS and index % 2 == 0 and rng.random() < PAIR_FOLLOW_RATE:
                    yield row("ItemViewed", user, world.item(category, index + 1), moment + timedelta(minutes=2))
            if rng.random() < 0.2:
                yield row("SearchPerformed", user, None, moment, term=f"term {category}")
            if rng.random() < 0.6:
                k = rng.randrange(PAIRS) if rng.random() < 0.5 else None
                bought = bought_pair(world, category, k)[0] if k is not None else world.item(
                    category, rng.randrange(2 * PAIRS, world.items_per_category))
                if rng.random() < 0.15:
                    bought = rng.choice(best_sellers)
                moment += timedelta(minutes=5)
                yield row("AddedToCart", user, bought, moment, quantity=1)
                yield row("Purchased", user, bought, moment + timedelta(minutes=3), quantity=1, orderId=f"o_{u}")
                if k is not None and bought == bought_pair(world, category, k)[0] and rng.random() < PAIR_FOLLOW_RATE:
                    partner = bought_pair(world, category, k)[1]
                    yield row("Purchased", user, partner, moment + timedelta(hours=rng.uniform(1, 48)), quantity=1,
                              orderId=f"o2_{u}")  # fmt: skip
            if rng.random() < 0.1:
                yield row("Wishlisted", user, world.item(category, rng.randrange(world.items_per_category)), moment)
    # The trend: the last three days, many shoppers look at and cart the trending category's items 40-49.
    trending_index = int(TRENDING_CATEGORY.split("_")[1])
    for n in range(world.users * 3):
        user = f"user_{rng.randrange(world.users):05d}"
        item = world.item(trending_index, 40 + rng.randrange(10))
        moment = NOW - timedelta(hours=rng.uniform(0, 72))
        yield row("ItemViewed" if n % 3 else "AddedToCart", user, item, moment, quantity=1 if n % 3 == 0 else None)


def scaled(events: int, seed: int = 7) -> World:
    """A world of about `events` rows (about 30 rows per user at six sessions each)."""
    users = max(50, events // 32)
    return World(users=users, categories=max(8, users // 400), items_per_category=60, seed=seed)
