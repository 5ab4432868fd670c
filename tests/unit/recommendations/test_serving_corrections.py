"""Serve-time corrections of the recommendations (shop.recommendations.serving) against moto's in-process
DynamoDB with the template's Items, Inventory and Recommendations tables: what the job's lists say is shown
only while it is on sale and in stock, a buyer's own purchases are not offered back, new listings show in new
arrivals, and the same-category fallbacks of GET /items/{itemId}/related are read only when needed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from shop import clock
from shop.aws import forget_clients
from shop.catalog.tables import Item
from shop.config import recommendation_settings, settings
from shop.inventory import DEFAULT_VARIANT
from shop.inventory.shards import row_key
from shop.inventory.tables import Stock
from shop.recommendations import serving
from shop.recommendations import tables as keys
from shop.recommendations.tables import Recommendation
from tests.unit.moto_tables import mocked_tables, use_environment

VERSION = "v-test"
TABLES = {"ItemsTable": "Items", "InventoryTable": "Inventory", "RecommendationsTable": "Recommendations"}


def _forget() -> None:
    for cached in (settings, recommendation_settings):
        cached.cache_clear()
    forget_clients()
    for model in (Item, Stock, Recommendation):
        model._connection = None


@pytest.fixture(autouse=True)
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_environment(monkeypatch, {"RECOMMENDATIONS_TABLE": "Recommendations"})
    _forget()
    with mocked_tables(TABLES) as dynamodb:
        Recommendation(keys.POINTER, keys.CURRENT, version=VERSION).save()
        yield dynamodb
    _forget()


def listed(item_id: str, *, category: str = "mugs", status: str = "ACTIVE", available: int = 5) -> str:
    now = clock.now_iso()
    Item(item_id, seller_id="seller", name=f"Item {item_id}", description="d", price=1000, currency="USD",
         category=category, status=status, created_at=now, updated_at=now).save()  # fmt: skip
    Stock(item_id, DEFAULT_VARIANT, available=available, updated_at=now).save()
    return item_id


def related_row(item_id: str, bought: list[str], viewed: list[str] = ()) -> None:  # type: ignore[assignment]
    Recommendation(keys.item_key(VERSION, item_id), keys.RELATED,
                   bought_together=[[other, 1.0] for other in bought],
                   viewed_together=[[other, 0.5] for other in viewed]).save()  # fmt: skip


def trending_row(category: str | None, items: list[str]) -> None:
    Recommendation(keys.trending_key(VERSION, category), keys.TRENDING,
                   items=[[item, float(10 - n)] for n, item in enumerate(items)]).save()  # fmt: skip


def shown(answer: Any) -> list[str]:
    return [item.item_id for item in answer.items]


def test_items_not_on_sale_or_without_stock_are_never_recommended() -> None:
    listed("a")
    listed("inactive", status="INACTIVE")
    listed("empty", available=0)
    listed("b")
    related_row("a", ["inactive", "empty", "unknown", "b"])
    assert shown(serving.related("a")) == ["b"]


def test_a_sharded_variant_is_in_stock_when_only_its_shard_rows_hold_units() -> None:
    listed("a")
    listed("hot", available=0)
    now = clock.now().isoformat()
    Stock("hot", DEFAULT_VARIANT, available=0, shards=2, shard_rows=2, updated_at=now).save()
    Stock(row_key("hot", 1), DEFAULT_VARIANT, available=3, shard_of="hot", updated_at=now).save()
    related_row("a", ["hot"])
    assert shown(serving.related("a")) == ["hot"]


def test_related_keeps_the_order_bought_then_viewed_then_the_category_without_the_item_or_repeats() -> None:
    for item_id in ("a", "b", "c", "d", "e"):
        listed(item_id)
    related_row("a", bought=["b", "a"], viewed=["b", "c"])
    trending_row("mugs", ["a", "d", "c", "e"])
    answer = serving.related("a")
    assert [(item.item_id, item.reason) for item in answer.items] == [
        ("b", "bought_together"), ("c", "viewed_together"), ("d", "same_category"), ("e", "same_category")]


def test_a_buyers_recent_purchases_are_not_recommended_back() -> None:
    listed("a")
    listed("b")
    listed("c")
    related_row("a", ["b", "c"])
    serving.on_event({"id": "e1", "type": "OrderConfirmed", "occurredAt": clock.now().isoformat(),
                      "data": {"userId": "u1", "lines": [{"itemId": "b"}, {"itemId": "b"}]}})  # fmt: skip
    assert shown(serving.related("a", "u1")) == ["c"]
    assert shown(serving.related("a", "someone-else")) == ["b", "c"]


def test_home_falls_back_to_trending_and_personalises_when_the_job_knew_the_user() -> None:
    for item_id in ("t1", "t2", "p1"):
        listed(item_id)
    trending_row(None, ["t1", "t2"])
    Recommendation(keys.user_key(VERSION, "known"), keys.HOME, items=[["p1", 0.9], ["t1", 0.1]]).save()
    anonymous, known, new = serving.home(None), serving.home("known"), serving.home("new-user")
    assert (anonymous.strategy, shown(anonymous)) == ("trending", ["t1", "t2"])
    assert (known.strategy, shown(known)) == ("personalised", ["p1", "t1"])
    assert (new.strategy, shown(new)) == ("trending", ["t1", "t2"])


def test_a_new_listing_is_in_its_categorys_new_arrivals_until_its_row_expires() -> None:
    listed("t1")
    trending_row(None, ["t1"])
    listed("fresh")
    created = {"id": "e2", "type": "ItemCreated", "occurredAt": clock.now().isoformat(),
               "data": {"itemId": "fresh", "category": "mugs", "createdAt": clock.now().isoformat()}}  # fmt: skip
    assert serving.on_event(created) == 2  # its category's row and every category's
    assert [arrival.item_id for arrival in serving.home(None).new_arrivals] == ["fresh"]
    expired = int((clock.now() - timedelta(seconds=1)).timestamp())
    for row in Recommendation.query(keys.new_arrival_key("mugs", "fresh")):
        row.update(actions=[Recommendation.expires_at.set(expired)])
    assert serving.home(None).new_arrivals == []  # TTL deletes within days: the expired row is skipped


def test_every_categorys_new_arrivals_are_spread_over_keys_and_read_back_newest_first() -> None:
    start = clock.now() - timedelta(minutes=30)
    for n in range(12):
        item_id = listed(f"n{n:02d}", category=f"c{n}")
        at = (start + timedelta(minutes=n)).isoformat()
        serving.on_event({"id": f"e{n}", "type": "ItemCreated", "occurredAt": at,
                          "data": {"itemId": item_id, "category": f"c{n}", "createdAt": at}})  # fmt: skip
    used = {row.pk for key in keys.new_arrivals_keys(None) for row in Recommendation.query(key)}
    assert len(used) > 1  # no single partition takes every listing
    assert serving._new_arrival_ids(None, limit=5) == [f"n{n:02d}" for n in (11, 10, 9, 8, 7)]


def test_same_category_fallbacks_are_read_only_when_the_related_lists_leave_the_answer_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [f"x{n:02d}" for n in range(serving.ANSWER_SIZE)]
    for item_id in ["a", *names]:
        listed(item_id)
    related_row("a", names)
    reads: list[str | None] = []
    real = serving._new_arrival_ids

    def recorded(category: str | None, **options: Any) -> list[str]:
        reads.append(category)
        return real(category, **options)

    monkeypatch.setattr(serving, "_new_arrival_ids", recorded)
    assert shown(serving.related("a")) == names
    assert reads == []
    Item.get("x00").update(actions=[Item.status.set("INACTIVE")])  # one short now: the fallbacks fill it
    assert len(shown(serving.related("a"))) == serving.ANSWER_SIZE - 1
    assert reads == ["mugs"]
