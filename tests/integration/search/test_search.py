"""Search through the session's local cloud: POST /items -> Items stream -> indexer -> GET /items."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.support.users import error_code, new_item

SEARCHABLE_WITHIN_S = 15.0  # generous for a loaded test machine; the benchmark measures the real latency


def _wait_for(api: Any, params: dict[str, Any], item_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SEARCHABLE_WITHIN_S
    while True:
        response = api.get("/items", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if any(item["itemId"] == item_id for item in body["items"]):
            return body
        assert time.monotonic() < deadline, f"{item_id} not found by {params} within {SEARCHABLE_WITHIN_S} s"
        time.sleep(0.05)


def test_an_item_created_over_http_is_found_with_typos_synonyms_and_filters(api, seller):
    marker = uuid.uuid4().hex[:8]
    created = api.post(
        "/items",
        headers=seller.auth,
        json=new_item(name=f"Wireless Mouse {marker}", brand="Zorblax", category="Electronics", tags=["mouse"]),
    )
    assert created.status_code == 201, created.text
    item_id = created.json()["itemId"]

    # The item (Items stream) and its stock (Inventory stream) reach the index separately, as on AWS: wait
    # until the stock is in, then every query sees it.
    _wait_for(api, {"term": marker, "brand": "zorblax", "inStock": "true", "maxPrice": 1000}, item_id)
    body = _wait_for(api, {"term": f"wireles mouse {marker}"}, item_id)
    assert body["total"] >= 1 and body["facets"]["category"]
    hit = next(item for item in body["items"] if item["itemId"] == item_id)
    assert hit["inStock"] is True and hit["available"] == 100 and hit["price"] == 999
    suggestions = api.get("/items/suggest", params={"prefix": f"wireless mouse {marker[:5]}"})
    assert suggestions.status_code == 200 and f"Wireless Mouse {marker}" in suggestions.json()["suggestions"]


def test_a_forged_cursor_is_refused(api):
    response = api.get("/items", params={"cursor": "eyJxIjoiYWJjIiwiYSI6WzFdfQ.AAAAAAAAAAAAAAAAAAAAAA"})
    assert response.status_code == 400 and error_code(response) == "INVALID_CURSOR"


def test_cursors_signed_with_the_stacks_secret_page_through_every_hit(api, seller):
    marker = uuid.uuid4().hex[:8]
    made = set()
    for n in range(3):
        created = api.post("/items", headers=seller.auth, json=new_item(name=f"Paged Lamp {marker} {n}"))
        assert created.status_code == 201, created.text
        made.add(created.json()["itemId"])
    for item_id in made:
        _wait_for(api, {"term": marker, "size": 100}, item_id)
    seen: list[str] = []
    params: dict[str, Any] = {"term": marker, "size": 1, "sort": "newest"}
    while True:
        page = api.get("/items", params=params)
        assert page.status_code == 200, page.text
        seen += [item["itemId"] for item in page.json()["items"]]
        if not page.json()["nextCursor"]:
            break
        params["cursor"] = page.json()["nextCursor"]
    assert sorted(seen) == sorted(made)


def test_size_out_of_range_is_a_validation_error(api):
    for size in (0, 101):
        response = api.get("/items", params={"size": size})
        assert response.status_code == 422 and error_code(response) == "VALIDATION_FAILED", response.text
