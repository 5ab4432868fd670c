"""GET /items answers a typed page (shop.search.schemas.SearchPage) whose JSON is exactly what the engines'
results gave as plain dicts before: the same names, `from` in the price facet, nulls kept, keys in order."""

from __future__ import annotations

import json
from typing import Any

from shop import search
from shop.search import service
from shop.search.indexing import Indexer
from shop.search.port import Filters, SearchRequest
from shop.search.query import build_words
from shop.search.tantivy_engine import TantivyEngine
from tests.unit.shop.apigw_events import LambdaContext, http_event, load_handler, response_json

KEY = b"page-test-key"


def engine_with_items(tmp_path: Any) -> TantivyEngine:
    engine = TantivyEngine(tmp_path / "index")
    indexer = Indexer(engine)
    for n, (name, brand, category) in enumerate([("Desk Lamp", "Lumo", "home"), ("Lamp Shade", None, None)], 1):
        item = {"itemId": f"itm_{n:06d}", "name": name, "description": "", "brand": brand, "category": category,
                "price": 1999 * n, "tags": ["lamp"], "status": "ACTIVE", "version": 1,
                "createdAt": f"2026-01-0{n}T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}  # fmt: skip
        indexer.apply("INSERT", {"itemId": item["itemId"]}, item, None)
        stock = {"itemId": item["itemId"], "variantId": "default", "available": n - 1, "updatedAt": "2026-01-01"}
        indexer.apply("INSERT", {"itemId": item["itemId"], "variantId": "default"}, stock, None)
    indexer.flush()
    return engine


def test_the_typed_page_is_the_engines_result_as_json(tmp_path):
    engine = engine_with_items(tmp_path)
    try:
        page = service.search_items(engine, term="lamp", size=1, cursor_key=KEY)
        raw = engine.search(SearchRequest(build_words("lamp"), Filters(), "relevance", 1, None))
    finally:
        engine.close()
    before = {"items": [hit.item for hit in raw.hits], "nextCursor": page.next_cursor, "total": raw.total,
              "facets": raw.facets}  # fmt: skip
    assert json.dumps(page.model_dump(mode="json", by_alias=True)) == json.dumps(before)
    wire = page.model_dump(mode="json", by_alias=True)
    assert wire["facets"]["price"][0] == {"from": None, "to": 2500, "count": 1}
    assert set(wire["items"][0]) == {"itemId", "name", "brand", "category", "price", "currency", "tags", "createdAt",
                                     "available", "inStock", "image"}  # fmt: skip
    assert page.next_cursor is not None and wire["items"][0]["image"] is None


def test_the_handler_answers_the_typed_page(tmp_path, monkeypatch):
    engine = engine_with_items(tmp_path)
    app = load_handler("search")
    monkeypatch.setattr(search, "engine", lambda: engine)
    try:
        event = http_event("GET", "/items", query="term=lamp&size=2")
        answer = app.lambda_handler(event, LambdaContext())
        direct = service.search_items(engine, term="lamp", size=2).model_dump(mode="json", by_alias=True)
    finally:
        engine.close()
    assert answer["statusCode"] == 200
    assert response_json(answer) == direct
    assert sorted(item["brand"] or "" for item in direct["items"]) == ["", "Lumo"]  # null brand kept as null


def test_price_bounds_beyond_what_the_engines_hold_are_refused_not_a_500(tmp_path, monkeypatch):
    # Fuzzing found GET /items?maxPrice=289289943849807736995840 answered 500: the bound overflowed tantivy's u64.
    engine = engine_with_items(tmp_path)
    app = load_handler("search")
    monkeypatch.setattr(search, "engine", lambda: engine)
    try:
        too_big = app.lambda_handler(http_event("GET", "/items", query="maxPrice=289289943849807736995840"),
                                     LambdaContext())  # fmt: skip
        largest = app.lambda_handler(http_event("GET", "/items", query=f"maxPrice={2**53 - 1}"), LambdaContext())
    finally:
        engine.close()
    assert too_big["statusCode"] == 422
    assert response_json(too_big)["error"]["details"]["fields"][0]["field"] == "maxPrice"
    assert largest["statusCode"] == 200
