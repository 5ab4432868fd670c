"""One contract for every search engine: known answers for typos, synonyms, prefixes, filters, facets,
sorts and cursor paging. tantivy runs in a temp dir; OpenSearch runs when OPENSEARCH_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shop.errors import InvalidCursorError
from shop.search import service
from shop.search.indexing import Indexer
from shop.search.port import Filters, SearchEngine

KEY = b"contract-test-key"
MAX_PAGES = 40  # 60 items + 3 added per page of 7 end in ~15 pages

CATALOG = [
    ("Wireless Mouse", "Logitech", "Electronics", 2999, 10, ["mouse", "bluetooth"]),
    ("Samsung Television 55 inch", "Samsung", "Electronics", 49999, 3, ["tv"]),
    ("Cotton T-Shirt", "Acme", "Clothing", 1500, 0, ["shirt"]),
    ("Leather Couch", "Homely", "Furniture", 89999, 2, []),
    ("Gaming Notebook 15", "Asus", "Electronics", 129999, 5, ["gaming"]),
    ("Running Shoes", "Stride", "Sports", 7999, 8, ["shoes"]),
    ("Ergonomic Keyboard", "Logitech", "Electronics", 5999, 0, ["keyboard"]),
    ("Smartphone X", "Phonix", "Electronics", 69999, 7, []),
]


def _engine(kind: str, tmp_path: Any) -> SearchEngine:
    if kind == "opensearch":
        if not os.environ.get("OPENSEARCH_URL"):
            pytest.skip("OpenSearch contract runs only when OPENSEARCH_URL points at a server (none runs here)")
        from shop.search.opensearch_engine import OpenSearchEngine

        return OpenSearchEngine.from_url(os.environ["OPENSEARCH_URL"], f"contract-{uuid.uuid4().hex[:8]}")
    from shop.search.tantivy_engine import TantivyEngine

    return TantivyEngine(tmp_path / "index")


def add(indexer: Indexer, n: int, name: str, brand: str, category: str, price: int, stock: int, tags: list[str]) -> str:
    item_id = f"itm_{n:06d}"
    image = {
        "itemId": item_id, "name": name, "description": f"{name} by {brand}", "brand": brand, "category": category,
        "price": price, "tags": tags, "status": "ACTIVE", "version": 1,
        "createdAt": f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z", "updatedAt": "2024-01-01T00:00:00.000Z",
    }  # fmt: skip
    indexer.apply("INSERT", {"itemId": item_id}, image, None)
    stock_row = {"itemId": item_id, "variantId": "default", "available": stock, "updatedAt": "2024-01-01"}
    indexer.apply("INSERT", {"itemId": item_id, "variantId": "default"}, stock_row, None)
    return item_id


@pytest.fixture(params=["tantivy", "opensearch"])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[SearchEngine]:
    engine = _engine(request.param, tmp_path)
    indexer = Indexer(engine)
    for n, row in enumerate(CATALOG, start=1):
        add(indexer, n, *row)
    indexer.flush()
    yield engine
    engine.close()


def page_of(engine: SearchEngine, **kwargs: Any) -> dict[str, Any]:
    """One page of results as GET /items answers it (the typed page as JSON)."""
    return service.search_items(engine, cursor_key=KEY, **kwargs).model_dump(mode="json", by_alias=True)


def names(engine: SearchEngine, **kwargs: Any) -> list[str]:
    return [item["name"] for item in page_of(engine, **kwargs)["items"]]


CASES = {
    "typo": ({"term": "wireles mouse"}, ["Wireless Mouse"]),
    "typo_long_word": ({"term": "ergonomc keybord"}, ["Ergonomic Keyboard"]),
    "synonym_tv": ({"term": "television"}, ["Samsung Television 55 inch"]),
    "synonym_short": ({"term": "tv"}, ["Samsung Television 55 inch"]),
    "synonym_laptop": ({"term": "laptop"}, ["Gaming Notebook 15"]),
    "synonym_sofa": ({"term": "sofa"}, ["Leather Couch"]),
    "synonym_phone": ({"term": "phone"}, ["Smartphone X"]),
    "prefix": ({"term": "keyb"}, ["Ergonomic Keyboard"]),
    "brand_boost": ({"term": "logitech", "sort": "price_asc"}, ["Wireless Mouse", "Ergonomic Keyboard"]),
    "filter_in_stock": ({"term": "logitech", "filters": Filters(in_stock=True)}, ["Wireless Mouse"]),
    "filter_price": ({"filters": Filters(min_price=5000, max_price=10000), "sort": "price_asc"},
                     ["Ergonomic Keyboard", "Running Shoes"]),
    "filter_category": ({"filters": Filters(category="clothing")}, ["Cotton T-Shirt"]),
    "sort_price_desc": ({"filters": Filters(brand="LOGITECH"), "sort": "price_desc"},
                        ["Ergonomic Keyboard", "Wireless Mouse"]),
    "sort_newest": ({"filters": Filters(category="Electronics"), "size": 2}, ["Smartphone X", "Ergonomic Keyboard"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_known_answers(engine: SearchEngine, case: str) -> None:
    kwargs, expected = CASES[case]
    assert names(engine, **kwargs) == expected


def test_name_ranks_above_description(engine: SearchEngine) -> None:
    assert names(engine, term="samsung")[0] == "Samsung Television 55 inch"


def test_facets_count_the_whole_query(engine: SearchEngine) -> None:
    page = page_of(engine, filters=Filters(category="Electronics"), size=1)
    assert page["total"] == 5
    assert {"value": "Logitech", "count": 2} in page["facets"]["brand"]
    assert sum(bucket["count"] for bucket in page["facets"]["price"]) == 5


def test_suggest_completes_names(engine: SearchEngine) -> None:
    assert service.suggest(engine, "wire") == ["Wireless Mouse"]
    assert service.suggest(engine, "running sh") == ["Running Shoes"]


def test_a_forged_or_foreign_cursor_is_refused(engine: SearchEngine) -> None:
    page = page_of(engine, size=2)
    with pytest.raises(InvalidCursorError):
        service.search_items(engine, size=2, page_cursor=page["nextCursor"][:-2] + "AA", cursor_key=KEY)
    with pytest.raises(InvalidCursorError):
        service.search_items(engine, term="mouse", size=2, page_cursor=page["nextCursor"], cursor_key=KEY)


def test_older_versions_and_deactivation(engine: SearchEngine) -> None:
    indexer = Indexer(engine)
    newer = {"itemId": "itm_000001", "name": "Wireless Mouse Pro", "price": 3999, "status": "ACTIVE", "version": 3,
             "updatedAt": "2024-02-01", "createdAt": "2024-01-01T00:00:01.000Z"}  # fmt: skip
    indexer.apply("MODIFY", {"itemId": "itm_000001"}, newer, None)
    indexer.apply("MODIFY", {"itemId": "itm_000001"}, {**newer, "name": "Old Mouse", "version": 2}, None)
    indexer.flush()
    assert names(engine, term="mouse") == ["Wireless Mouse Pro"]
    indexer.apply("MODIFY", {"itemId": "itm_000001"}, {**newer, "status": "INACTIVE", "version": 4}, None)
    indexer.apply(
        "MODIFY",
        {"itemId": "itm_000002", "variantId": "default"},
        {"itemId": "itm_000002", "variantId": "default", "available": 0, "updatedAt": "2024-03-01"},
        None,
    )
    indexer.flush()
    assert names(engine, term="mouse") == []
    assert names(engine, term="tv", filters=Filters(in_stock=True)) == []


@pytest.mark.parametrize("sort", ["relevance", "price_asc", "price_desc", "newest"])
def test_paging_returns_each_item_once_while_items_are_added(engine: SearchEngine, sort: str) -> None:
    indexer = Indexer(engine)
    for n in range(100, 160):
        add(indexer, n, f"Widget {n}", "Acme", "Tools", 1000 + (n % 7) * 100, 1, ["widget"])
    indexer.flush()
    before = {f"itm_{n:06d}" for n in range(100, 160)}
    seen: list[str] = []
    cursor, added = None, 200
    for _ in range(MAX_PAGES):  # a cursor that stops advancing fails here instead of paging forever
        page = page_of(engine, term="widget", sort=sort, size=7, page_cursor=cursor)
        seen += [item["itemId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
        for _ in range(3):  # new widgets land everywhere in the order while we page
            add(indexer, added, f"Widget {added}", "Acme", "Tools", 900 + (added % 11) * 100, 1, ["widget"])
            added += 1
        indexer.flush()
    else:
        pytest.fail(f"paging did not end within {MAX_PAGES} pages: the cursor does not advance")
    assert len(seen) == len(set(seen)), "an item was returned twice"
    assert before <= set(seen), "an item that existed before paging began was skipped"


def test_relevance_scores_do_not_move_as_the_index_grows(engine: SearchEngine) -> None:
    """Relevance cursors hold a score: it must not depend on corpus statistics (a filter's BM25 did)."""
    first = page_of(engine, term="logitech", size=1)
    assert first["nextCursor"] is not None
    indexer = Indexer(engine)
    for n in range(300, 340):
        add(indexer, n, f"Gadget {n}", "Acme", "Tools", 1000, 1, [])
    indexer.flush()
    again = page_of(engine, term="logitech", size=1)
    assert again["nextCursor"] == first["nextCursor"]
