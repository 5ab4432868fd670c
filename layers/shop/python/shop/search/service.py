"""The search service: what GET /items and GET /items/suggest do, on whichever engine is configured."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache

from shop.errors import SearchUnavailableError
from shop.search import cursor
from shop.search.port import Filters, SearchEngine, SearchRequest, Sort
from shop.search.query import build_words
from shop.search.schemas import Facets, ItemSummary, SearchPage
from shop.search.settings import SearchSettings, search_settings
from shop.search.settings import cursor_key as signing_key

SUGGEST_FIELDS = {"name": 10.0, "brand": 6.0}
SUGGEST_LIMIT = 10


@cache
def engine() -> SearchEngine:
    return open_engine(search_settings())


def open_engine(settings: SearchSettings) -> SearchEngine:
    if settings.opensearch_url:
        from shop.search.opensearch_engine import OpenSearchEngine

        return OpenSearchEngine.from_url(settings.opensearch_url, settings.opensearch_index)
    from shop.search.tantivy_engine import TantivyEngine

    try:
        return TantivyEngine(settings.index_dir)
    except (OSError, ValueError) as error:  # the index directory is unreadable or holds a damaged index
        raise SearchUnavailableError() from error


def search_items(
    engine: SearchEngine,
    *,
    term: str = "",
    filters: Filters | None = None,
    sort: Sort = "relevance",
    size: int = 20,
    page_cursor: str | None = None,
    cursor_key: bytes | None = None,
) -> SearchPage:
    """One page of results: {items, nextCursor, total, facets}. Facets and total describe the whole query."""
    filters = filters or Filters()
    key = cursor_key or signing_key()
    words = build_words(term)
    effective_sort: Sort = sort if (words or sort != "relevance") else "newest"
    query_id = cursor.fingerprint([engine.name, [asdict(word) for word in words], asdict(filters), effective_sort])
    after = cursor.decode(key, query_id, page_cursor) if page_cursor else None
    result = engine.search(SearchRequest(words, filters, effective_sort, size, after))
    next_cursor = cursor.encode(key, query_id, result.hits[-1].sort_values) if result.has_more else None
    return SearchPage(
        items=[ItemSummary.model_validate(hit.item) for hit in result.hits],
        next_cursor=next_cursor,
        total=result.total,
        facets=None if result.facets is None else Facets.model_validate(result.facets),
    )


def suggest(engine: SearchEngine, prefix: str) -> list[str]:
    """Up to ten item names completing what was typed (the last word as a prefix, typos tolerated)."""
    words = build_words(prefix, fields=SUGGEST_FIELDS)
    if not words:
        return []
    result = engine.search(SearchRequest(words, Filters(), "relevance", SUGGEST_LIMIT * 3, facets=False))
    names: dict[str, None] = {}
    for hit in result.hits:
        name = hit.item.get("name")
        if isinstance(name, str) and name.lower() not in {n.lower() for n in names}:
            names[name] = None
        if len(names) == SUGGEST_LIMIT:
            break
    return list(names)
