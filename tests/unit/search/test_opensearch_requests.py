"""The OpenSearch adapter without a server: the exact bodies it sends for every contract case are pinned by
golden files (tests/fixtures/opensearch/<case>.json), captured through opensearch-py's real client and
serializer with a transport that answers like an empty index. UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest
from opensearchpy import Connection, OpenSearch

from shop.search import service
from shop.search.opensearch_engine import OpenSearchEngine
from shop.search.port import Document
from tests.unit.search.test_search_contract import CASES, KEY

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "opensearch"
EMPTY_SEARCH = {"hits": {"hits": []}, "aggregations": {"seq": {"value": None}}}


class CapturingConnection(Connection):
    sent: ClassVar[list[dict[str, Any]]] = []

    def perform_request(self, method: str, url: str, params: Any = None, body: bytes | None = None,
                        timeout: Any = None, ignore: Any = (), headers: Any = None) -> Any:  # fmt: skip
        payload = body.decode() if isinstance(body, bytes) else body
        self.sent.append({"method": method, "url": url, "params": dict(params or {}), "body": payload})
        if method == "HEAD":
            return 404, {}, ""  # no index yet: the engine creates it
        if url.endswith("/_bulk"):
            return 200, {}, json.dumps({"errors": False, "items": []})
        return 200, {}, json.dumps(EMPTY_SEARCH)


@pytest.fixture
def engine() -> OpenSearchEngine:
    CapturingConnection.sent.clear()
    client = OpenSearch(hosts=["http://opensearch.invalid:9200"], connection_class=CapturingConnection)
    return OpenSearchEngine(client, "items")


def _check(name: str, actual: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(actual, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert json.loads(path.read_text()) == actual, f"{path.name} differs; UPDATE_GOLDEN=1 if intended"


@pytest.mark.parametrize("case", sorted(CASES))
def test_search_bodies_match_golden_files(engine: OpenSearchEngine, case: str) -> None:
    kwargs, _ = CASES[case]
    service.search_items(engine, cursor_key=KEY, **kwargs)
    searches = [r for r in CapturingConnection.sent if r["url"] == "/items/_search"]
    assert len(searches) == 1
    _check(case, json.loads(searches[0]["body"]))


def test_index_mapping_and_bulk_match_golden_files(engine: OpenSearchEngine) -> None:
    item = {"itemId": "itm_1", "name": "Wireless Mouse", "brand": "Logitech", "category": "Electronics",
            "price": 2999, "tags": ["mouse"], "createdAt": "2024-01-01T00:00:01.000Z"}  # fmt: skip
    engine.upsert([Document("itm_1", 7, True, 1, {"item": item, "stock": {"default": [3, "2024-01-01"]}})])
    engine.commit()
    create = next(r for r in CapturingConnection.sent if r["method"] == "PUT")
    bulk = next(r for r in CapturingConnection.sent if r["url"] == "/_bulk")
    assert bulk["params"] in ({"refresh": "true"}, {"refresh": b"true"})
    _check("_index", json.loads(create["body"]))
    _check("_bulk", [json.loads(line) for line in bulk["body"].splitlines() if line])


def test_a_cursor_page_sends_search_after(engine: OpenSearchEngine) -> None:
    body = engine.request_body(service.SearchRequest((), service.Filters(), "price_asc", 5, after=(123,)))
    assert body["search_after"] == [123]
    assert body["sort"] == [{"price_key": {"order": "asc"}}]
