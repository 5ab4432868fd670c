"""The managed engine: one OpenSearch index (selected when OPENSEARCH_URL is set).

It receives the same engine-neutral words as tantivy (shop.search.query) and turns each clause into a
constant_score query with the clause's boost, each word into a dis_max of its clauses (best way wins, no
tie breaker) and the filters into filter context (scores 0): scores are sums of fixed per-word scores,
exactly as tantivy computes them, so both engines rank alike and cursors hold (score, seq).
Paging is search_after on [_score, seq] (relevance) or on the unique keys price_key / new_key.
The mapping still carries a synonym analyzer and an edge-n-gram sub-field: prefix clauses use the
n-grams (a term lookup instead of a prefix scan) and the synonym analyzer serves ad-hoc match queries.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from shop.errors import SearchUnavailableError
from shop.search.documents import available, summary
from shop.search.port import PRICE_RANGES, Clause, Document, Filters, Hit, SearchRequest, SearchResult, Word
from shop.search.synonyms import synonyms
from shop.search.tantivy_engine import (
    SEQ_BITS,
    SEQ_MASK,
    SORT_FIELDS,
    TEXT_FIELDS,
    _epoch_seconds,
    facets_from_aggregations,
)

log = logging.getLogger("shop.search.opensearch")

MAX_GRAM = 20  # longer prefixes fall back to a prefix query


def index_body() -> dict[str, Any]:
    """Settings and mappings of the items index."""
    rules = [", ".join(" ".join(phrase) for phrase in group) for group in _synonym_groups()]
    text = {
        "type": "text",
        "analyzer": "shop_text",
        "search_analyzer": "shop_text",
        "fields": {
            "prefix": {"type": "text", "analyzer": "shop_prefix", "search_analyzer": "shop_text"},
            "synonyms": {"type": "text", "analyzer": "shop_text", "search_analyzer": "shop_synonyms"},
        },
    }
    properties: dict[str, Any] = {"id": {"type": "keyword"}}
    properties.update({name: text for name in TEXT_FIELDS})
    for name in ("category", "brand"):
        properties[f"{name}_key"] = {"type": "keyword"}
        properties[f"{name}_facet"] = {"type": "keyword"}
    for name in ("price", "available", "visible", "seq"):
        properties[name] = {"type": "long"}
    for name in ("price_key", "new_key"):
        properties[name] = {"type": "unsigned_long"}
    properties["state"] = {"type": "object", "enabled": False}
    return {
        "settings": {
            "index": {"number_of_shards": 1, "refresh_interval": "1s", "max_result_window": 20_000},
            "analysis": {
                # Same terms as shop.search.text.tokens: split on non-alphanumerics, lower-case, <= 40 chars.
                "tokenizer": {"shop_words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
                "filter": {
                    "shop_length": {"type": "length", "max": 40},
                    "shop_edge": {"type": "edge_ngram", "min_gram": 1, "max_gram": MAX_GRAM},
                    "shop_synonyms": {"type": "synonym_graph", "synonyms": rules},
                },
                "analyzer": {
                    "shop_text": {"tokenizer": "shop_words", "filter": ["lowercase", "shop_length"]},
                    "shop_prefix": {"tokenizer": "shop_words", "filter": ["lowercase", "shop_length", "shop_edge"]},
                    "shop_synonyms": {
                        "tokenizer": "shop_words",
                        "filter": ["lowercase", "shop_length", "shop_synonyms"],
                    },
                },
            },
        },
        "mappings": {"dynamic": "strict", "properties": properties},
    }


def _synonym_groups() -> list[tuple[tuple[str, ...], ...]]:
    seen: set[tuple[str, ...]] = set()
    groups = []
    for phrase, group in synonyms().groups.items():
        if phrase not in seen:
            seen.update(group)
            groups.append(group)
    return groups


class OpenSearchEngine:
    name = "opensearch"

    def __init__(self, client: OpenSearch, index: str) -> None:
        self.client = client
        self.index = index
        self._pending: list[dict[str, Any]] = []
        self._max_seq: int | None = None
        self._ready = False

    @classmethod
    def from_url(cls, url: str, index: str) -> OpenSearchEngine:
        options: dict[str, Any] = {"timeout": 5, "max_retries": 1, "retry_on_timeout": True}
        if ".aoss." in url or ".es.amazonaws.com" in url:
            # Amazon OpenSearch (Serverless, as the template provisions, or a domain) takes SigV4, signed with
            # the function role's credentials.
            import boto3
            from opensearchpy import Urllib3AWSV4SignerAuth, Urllib3HttpConnection

            session = boto3.Session()
            service = "aoss" if ".aoss." in url else "es"
            region = session.region_name or os.environ.get("AWS_REGION", "")
            options["http_auth"] = Urllib3AWSV4SignerAuth(session.get_credentials(), region, service)
            options["connection_class"] = Urllib3HttpConnection
            options["use_ssl"] = url.startswith("https")
        return cls(OpenSearch(hosts=[url], **options), index)

    def _call(self, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except OpenSearchConnectionError as error:
            raise SearchUnavailableError() from error
        except TransportError as error:
            if isinstance(error.status_code, int) and error.status_code >= 500:
                raise SearchUnavailableError() from error
            raise

    def ensure_index(self) -> None:
        if self._ready:
            return
        if not self._call(self.client.indices.exists, index=self.index):
            try:
                self._call(self.client.indices.create, index=self.index, body=index_body())
            except TransportError as error:  # created by another process in between
                if "resource_already_exists" not in str(error):
                    raise
        self._ready = True

    # ------------------------------------------------------------------ reading
    def get(self, item_ids: Iterable[str]) -> dict[str, Document]:
        ids = list(item_ids)
        if not ids:
            return {}
        self.ensure_index()
        try:
            response = self._call(self.client.mget, index=self.index, body={"ids": ids})
        except NotFoundError:
            return {}
        return {doc["_id"]: _load(doc["_id"], doc["_source"]) for doc in response["docs"] if doc.get("found")}

    def next_seq(self) -> int:
        # One indexer writes (ReservedConcurrentExecutions 1), so the max seen plus a local counter is unique.
        if self._max_seq is None:
            self.ensure_index()
            body = {"size": 0, "aggs": {"seq": {"max": {"field": "seq"}}}}
            response = self._call(self.client.search, index=self.index, body=body)
            self._max_seq = int(response["aggregations"]["seq"].get("value") or 0)
        self._max_seq += 1
        return self._max_seq

    # ------------------------------------------------------------------ writing
    def upsert(self, documents: Sequence[Document]) -> None:
        for document in documents:
            self._pending.append({"index": {"_index": self.index, "_id": document.item_id}})
            self._pending.append(self._source(document))

    def commit(self) -> None:
        if not self._pending:
            return
        self.ensure_index()
        actions, self._pending = self._pending, []
        # refresh=true makes the batch searchable when commit returns, like tantivy's commit + reload.
        response = self._call(self.client.bulk, body=actions, refresh="true")
        if response.get("errors"):
            failed = [item for item in response["items"] if item.get("index", {}).get("error")]
            raise RuntimeError(f"OpenSearch refused {len(failed)} documents: {failed[:1]}")

    def rollback(self) -> None:
        self._pending = []
        self._max_seq = None

    def close(self) -> None:
        self.rollback()

    def _source(self, document: Document) -> dict[str, Any]:
        item = document.state.get("item", {})
        price = max(0, int(item.get("price") or 0))
        seq = document.seq & SEQ_MASK
        source: dict[str, Any] = {
            "id": document.item_id,
            "name": item.get("name") or "",
            "description": item.get("description") or "",
            "tags": list(item.get("tags") or []),
            "price": price,
            "available": available(document),
            "visible": 1 if document.visible else 0,
            "seq": document.seq,
            "price_key": (price << SEQ_BITS) | seq,
            "new_key": (_epoch_seconds(item.get("createdAt")) << SEQ_BITS) | seq,
            "state": {"seq": document.seq, "visible": document.visible, "version": document.version,
                      "state": document.state},
        }  # fmt: skip
        for name in ("category", "brand"):
            value = item.get(name)
            if value:
                source[f"{name}_key"] = str(value).lower()
                source[f"{name}_facet"] = str(value)
        source["brand"] = str(item.get("brand") or "")
        return source

    # ------------------------------------------------------------------ searching
    def request_body(self, request: SearchRequest) -> dict[str, Any]:
        """The exact search body sent for a request (golden files pin it: tests/fixtures/opensearch)."""
        body: dict[str, Any] = {
            "query": query(request.words, request.filters),
            "size": request.size + 1,
            "track_total_hits": False,
            "_source": ["state"],
        }
        if request.sort == "relevance" and request.words:
            body["sort"] = [{"_score": {"order": "desc"}}, {"seq": {"order": "desc"}}]
        else:
            field, ascending = SORT_FIELDS.get(request.sort, SORT_FIELDS["newest"])
            body["sort"] = [{field: {"order": "asc" if ascending else "desc"}}]
        if request.after:
            body["search_after"] = list(request.after)
        if request.facets:
            ranges = [{k: v for k, v in (("from", low), ("to", high)) if v is not None} for low, high in PRICE_RANGES]
            body["aggs"] = {
                "category": {"terms": {"field": "category_facet", "size": 20}},
                "brand": {"terms": {"field": "brand_facet", "size": 20}},
                "price": {"range": {"field": "price", "ranges": ranges}},
            }
        return body

    def search(self, request: SearchRequest) -> SearchResult:
        self.ensure_index()
        response = self._call(self.client.search, index=self.index, body=self.request_body(request))
        rows = response["hits"]["hits"]
        hits = [
            Hit(summary(_load(row["_id"], row["_source"])), _sort_values(row["sort"])) for row in rows[: request.size]
        ]
        total, facets = None, None
        if request.facets:
            facets, total = facets_from_aggregations(response.get("aggregations", {}))
        return SearchResult(hits=hits, total=total, facets=facets, has_more=len(rows) > request.size)


def query(words: Sequence[Word], filters: Filters) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [{"term": {"visible": 1}}]
    exclusions: list[dict[str, Any]] = []
    if filters.category:
        conditions.append({"term": {"category_key": filters.category.lower()}})
    if filters.brand:
        conditions.append({"term": {"brand_key": filters.brand.lower()}})
    if filters.min_price is not None or filters.max_price is not None:
        bounds = {k: v for k, v in (("gte", filters.min_price), ("lte", filters.max_price)) if v is not None}
        conditions.append({"range": {"price": bounds}})
    if filters.in_stock is not None:
        (conditions if filters.in_stock else exclusions).append({"range": {"available": {"gte": 1}}})
    boolean: dict[str, Any] = {"filter": conditions}
    if exclusions:
        boolean["must_not"] = exclusions
    if words:
        boolean["must"] = [
            {"dis_max": {"tie_breaker": 0.0, "queries": [_clause(clause) for clause in word.clauses]}} for word in words
        ]
    return {"bool": boolean}


def _clause(clause: Clause) -> dict[str, Any]:
    parts = [_term(clause, term) for term in clause.terms]
    inner = parts[0] if len(parts) == 1 else {"bool": {"filter": parts}}
    return {"constant_score": {"filter": inner, "boost": clause.boost}}


def _term(clause: Clause, term: str) -> dict[str, Any]:
    if clause.kind == "prefix":
        if len(term) <= MAX_GRAM:
            return {"term": {f"{clause.field}.prefix": term}}
        return {"prefix": {clause.field: term}}
    if clause.kind == "fuzzy":
        spec = {"value": term, "fuzziness": clause.distance, "transpositions": True, "prefix_length": 0}
        return {"fuzzy": {clause.field: spec}}
    return {"term": {clause.field: term}}


def _sort_values(values: list[Any]) -> tuple[Any, ...]:
    return tuple(float(value) if isinstance(value, float) else value for value in values)


def _load(item_id: str, source: dict[str, Any]) -> Document:
    data = source["state"]
    if isinstance(data, str):
        data = json.loads(data)
    return Document(item_id, int(data["seq"]), bool(data["visible"]), int(data["version"]), data["state"])
