"""The search port: what the service needs from an engine, and the engine-neutral types it speaks.

Engines (shop.search.tantivy_engine, shop.search.opensearch_engine) receive a fully decided query: the
service has already tokenized it, expanded synonyms and chosen fuzziness and prefixes (shop.search.query),
so both rank alike. Relevance is a sum, over the query's words, of the best constant score of any way the
word matched (field boost x match kind): it depends on the document only, never on corpus statistics, so
pages stay stable while items are added.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Sort = Literal["relevance", "price_asc", "price_desc", "newest"]
MatchKind = Literal["term", "fuzzy", "prefix"]

# Price ranges of the price facet, in minor units: [from, to).
PRICE_RANGES: tuple[tuple[int | None, int | None], ...] = (
    (None, 2500), (2500, 5000), (5000, 10000), (10000, 25000), (25000, 50000), (50000, 100000), (100000, None),
)  # fmt: skip


@dataclass(frozen=True)
class Clause:
    """One way a query word may match: all `terms` in `field` (several for a multi-word synonym)."""

    field: str
    terms: tuple[str, ...]
    kind: MatchKind
    boost: float
    distance: int = 0  # edit distance of a fuzzy clause


@dataclass(frozen=True)
class Word:
    """A query word (or phrase with synonyms): the document must match at least one clause; the best counts."""

    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Filters:
    category: str | None = None  # compared case-insensitively
    brand: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None


@dataclass(frozen=True)
class SearchRequest:
    words: tuple[Word, ...]  # empty: every visible item
    filters: Filters
    sort: Sort
    size: int
    after: tuple[Any, ...] | None = None  # the sort values of the last hit of the previous page
    facets: bool = True


@dataclass(frozen=True)
class Hit:
    item: dict[str, Any]  # the item summary (shop.search.documents.summary)
    sort_values: tuple[Any, ...]


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int | None  # matches of the query and filters (without the cursor); None when not counted
    facets: dict[str, list[dict[str, Any]]] | None = None
    has_more: bool = False


@dataclass
class Document:
    """What the index holds about one item (shop.search.documents builds and merges these)."""

    item_id: str
    seq: int  # unique per index, assigned once: the tie-breaker of every sort
    visible: bool  # ACTIVE and known; hidden documents are tombstones that keep versions
    version: int
    state: dict[str, Any] = field(default_factory=dict)  # summary + variant stock, stored as JSON


class SearchEngine(Protocol):
    """One index of items. Writers call upsert/delete then commit; readers see commits within a second."""

    name: str

    def get(self, item_ids: Iterable[str]) -> dict[str, Document]: ...

    def upsert(self, documents: Sequence[Document]) -> None: ...

    def commit(self) -> None: ...

    def next_seq(self) -> int: ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def close(self) -> None: ...
