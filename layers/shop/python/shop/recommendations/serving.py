"""Serving recommendations: the version the pointer names, corrected at serve time.

The batch job's lists are hours old by the time they serve, so every answer is corrected against the live
tables first: an item that is not ACTIVE or has no units available is never recommended, a buyer's own
purchases of the last days (from OrderConfirmed) are not recommended back, and items listed after the job
ran show in "new arrivals" of their category as soon as their ItemCreated arrives (seconds). The lists hold
more candidates than an answer shows, so dropping some still fills it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from shop import clock
from shop.catalog.tables import Item
from shop.inventory import DEFAULT_VARIANT
from shop.inventory.shards import read_rows
from shop.recommendations import tables as keys
from shop.recommendations.schemas import (
    HomeRecommendations,
    HomeStrategy,
    NewArrival,
    Reason,
    RecommendedItem,
    RelatedItems,
)
from shop.recommendations.tables import Recommendation

ANSWER_SIZE = 10
NEW_ARRIVAL_DAYS = 14  # how long an ItemCreated keeps an item in its category's new arrivals
RECENT_PURCHASE_DAYS = 30  # how long a buyer's own purchase is kept out of their recommendations
ORDER_CONFIRMED, ITEM_CREATED = "OrderConfirmed", "ItemCreated"

Candidate = tuple[str, float | None, Reason]


def current_version() -> str | None:
    """The version that serves: one GetItem of the pointer row (None before the job's first run)."""
    pointer = _get(keys.POINTER, keys.CURRENT)
    return pointer.version if pointer else None


def home(user_id: str | None) -> HomeRecommendations:
    """The home page's recommendations: the user's ALS affinities where the last run knew them, else
    trending over all categories; then new arrivals in the categories shown."""
    version = current_version()
    personal = _get(keys.user_key(version, user_id), keys.HOME) if version and user_id else None
    strategy: HomeStrategy = "personalised" if personal and personal.items else "trending"
    if personal and personal.items:
        candidates: list[Candidate] = [(item, score, "personalised") for item, score in personal.items]
    else:
        trending = _get(keys.trending_key(version, None), keys.TRENDING) if version else None
        candidates = [(item, score, "trending") for item, score in (trending.items if trending else [])]
    items = _corrected([candidates], exclude=_recently_bought(user_id))
    categories: list[str | None] = list(dict.fromkeys(item.category for item in items if item.category))
    return HomeRecommendations(strategy=strategy, version=version, items=items,
                               new_arrivals=_new_arrivals(categories[:3] or [None]))  # fmt: skip


def related(item_id: str, user_id: str | None = None) -> RelatedItems:
    """Items to show next to one: bought together, then viewed together (both by significance), then the
    same category (its new arrivals, then its trending items), without the item itself or repeats."""
    version = current_version()
    exclude = _recently_bought(user_id) | {item_id}
    return RelatedItems(item_id=item_id, version=version,
                        items=_corrected(_related_candidates(version, item_id), exclude=exclude))  # fmt: skip


def _related_candidates(version: str | None, item_id: str) -> Iterator[list[Candidate]]:
    """The candidates of `related` in order, as lists read when they are needed: the job's RELATED row,
    then the same-category fallbacks (the item's own row for its category, its new arrivals, its trending
    list), which an item with history seldom needs."""
    row = _get(keys.item_key(version, item_id), keys.RELATED) if version else None
    if row:
        yield [(other, score, "bought_together") for other, score in row.bought_together or []] + [
            (other, score, "viewed_together") for other, score in row.viewed_together or []]
    item = next(iter(Item.batch_get([item_id])), None)
    if item is None or not item.category:
        return
    trending = _get(keys.trending_key(version, item.category), keys.TRENDING) if version else None
    yield [(other, None, "same_category") for other in _new_arrival_ids(item.category)] + [
        (other, score, "same_category") for other, score in (trending.items if trending else [])]


# ---------------------------------------------------------------- near-real-time rows (bus events)
def on_event(envelope: Mapping[str, Any]) -> int:
    """Keep the serve-time rows current from one bus event: ItemCreated adds the item to its category's
    new arrivals; OrderConfirmed records the buyer's purchases. Returns the rows written (puts with keys
    derived from the event, so a redelivery rewrites the same rows)."""
    data: Mapping[str, Any] = envelope.get("data") or {}
    now = clock.now()
    if envelope.get("type") == ITEM_CREATED:
        expires = int((now + timedelta(days=NEW_ARRIVAL_DAYS)).timestamp())
        created = str(data.get("createdAt") or envelope.get("occurredAt"))
        rows = [Recommendation(keys.new_arrival_key(category, data["itemId"]), f"{created}#{data['itemId']}",
                               item_id=data["itemId"], expires_at=expires)
                for category in dict.fromkeys([data.get("category"), None])]  # fmt: skip
    elif envelope.get("type") == ORDER_CONFIRMED:
        expires = int((now + timedelta(days=RECENT_PURCHASE_DAYS)).timestamp())
        rows = [Recommendation(keys.bought_key(str(data["userId"])), str(line["itemId"]), item_id=line["itemId"],
                               expires_at=expires) for line in data.get("lines") or []]  # fmt: skip
    else:
        return 0
    # One row per key: an order's lines may name one item twice (two variants), and a batch write refuses
    # a request that holds the same key twice.
    unique = list({(row.pk, row.sk): row for row in rows}.values())
    with Recommendation.batch_write() as batch:
        for row in unique:
            batch.save(row)
    return len(unique)


# ---------------------------------------------------------------- corrections
def _corrected(sources: Iterable[list[Candidate]], *, exclude: set[str]) -> list[RecommendedItem]:
    """The first ANSWER_SIZE candidates that are on sale and in stock, in order, each once. `sources` are
    lists of candidates in order of preference; the next is drawn only when those before it left the answer
    short, and each is checked in slices (a batch read each), most answers needing only the first."""
    seen = set(exclude)
    shown: list[RecommendedItem] = []
    for source in sources:
        fresh = []  # each item's first candidate: its best reason
        for candidate in source:
            if candidate[0] not in seen:
                seen.add(candidate[0])
                fresh.append(candidate)
        for start in range(0, len(fresh), ANSWER_SIZE * 2):
            if len(shown) >= ANSWER_SIZE:
                break
            batch = fresh[start : start + ANSWER_SIZE * 2]
            on_sale = _on_sale([item_id for item_id, _, _ in batch])
            for item_id, score, reason in batch:
                item = on_sale.get(item_id)
                if item is not None and len(shown) < ANSWER_SIZE:
                    shown.append(RecommendedItem(item_id=item_id, name=item.name, price=int(item.price),
                                                 currency=item.currency, category=item.category, reason=reason,
                                                 score=None if score is None else round(float(score), 6)))  # fmt: skip
        if len(shown) >= ANSWER_SIZE:
            break
    return shown


def _on_sale(item_ids: list[str]) -> dict[str, Item]:
    """The items among these that are ACTIVE with at least one unit available: one batch read of the items,
    one of their stock rows (and one more of the shard rows of sharded variants, whose units are their rows'
    sum: a sharded variant's home row may hold none of them)."""
    items = {item.item_id: item for item in Item.batch_get(item_ids) if item.status == "ACTIVE"} if item_ids else {}
    stock_keys = [(item.item_id, variant) for item in items.values()
                  for variant in ([v.variant_id for v in item.variants] or [DEFAULT_VARIANT])]  # fmt: skip
    rows = read_rows(stock_keys, consistent=False) if stock_keys else {}
    in_stock = {item_id for (item_id, _), variant_rows in rows.items() if variant_rows.total_available > 0}
    return {item_id: item for item_id, item in items.items() if item_id in in_stock}


def _recently_bought(user_id: str | None) -> set[str]:
    if not user_id:
        return set()
    return {str(row.sk) for row in Recommendation.query(keys.bought_key(user_id))}


def _new_arrival_ids(category: str | None, limit: int = ANSWER_SIZE * 2) -> list[str]:
    """The newest first: one query for a category, one per shard (merged by sort key, which starts with the
    listing time) for every category's."""
    now = clock.now().timestamp()
    rows = [row for key in keys.new_arrivals_keys(category)
            for row in Recommendation.query(key, scan_index_forward=False, limit=limit)]  # fmt: skip
    rows.sort(key=lambda row: str(row.sk), reverse=True)
    # The TTL service deletes expired rows within days, not at once: an expired row is skipped here.
    return [str(row.item_id) for row in rows if row.expires_at is None or row.expires_at > now][:limit]


def _new_arrivals(categories: list[str | None]) -> list[NewArrival]:
    ids = list(dict.fromkeys(item_id for category in categories for item_id in _new_arrival_ids(category)))
    on_sale = _on_sale(ids)
    return [NewArrival(item_id=i, name=on_sale[i].name, price=int(on_sale[i].price), currency=on_sale[i].currency,
                       category=on_sale[i].category) for i in ids if i in on_sale][:ANSWER_SIZE]  # fmt: skip


def _get(pk: str, sk: str) -> Recommendation | None:
    try:
        return Recommendation.get(pk, sk)
    except Recommendation.DoesNotExist:
        return None
