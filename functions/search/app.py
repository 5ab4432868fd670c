"""Search API: GET /items (full-text search with filters, facets, sort and cursor paging) and
GET /items/suggest (completions). Reads only the search index, never the catalog tables."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import events, http, search
from shop.search.schemas import SearchPage, Suggestions
from shop.validation import MAX_SAFE_INTEGER

logger = Logger()
app = http.create_app()


@app.get(
    "/items",
    summary="Search items: typo tolerant, synonyms, filters, facets, sort, cursor pages",
    tags=["search"],
    responses=http.documented_responses(200, "One page of results", [400, 422, 503]),
)
def search_items(
    *,
    term: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    category: Annotated[str | None, Query(max_length=100)] = None,
    brand: Annotated[str | None, Query(max_length=100)] = None,
    # Bounded so a bound fits both engines' price fields (tantivy u64, OpenSearch long): an unbounded one was a 500.
    min_price: Annotated[int | None, Query(alias="minPrice", ge=0, le=MAX_SAFE_INTEGER)] = None,
    max_price: Annotated[int | None, Query(alias="maxPrice", ge=0, le=MAX_SAFE_INTEGER)] = None,
    in_stock: Annotated[bool | None, Query(alias="inStock")] = None,
    sort: Annotated[Literal["relevance", "price_asc", "price_desc", "newest"], Query()] = "relevance",
) -> SearchPage:
    filters = search.Filters(category, brand, min_price, max_price, in_stock)
    page = search.search_items(search.engine(), term=term, filters=filters, sort=sort, size=size, page_cursor=cursor)
    if term and cursor is None:  # a search, not the next page of one; off the critical path (emit_behaviour)
        shown = [hit.item_id for hit in page.items]
        events.emit_behaviour(events.SEARCH_PERFORMED, {"term": term, "category": category, "resultsShown": shown},
                              user_id=http.visitor(app))  # fmt: skip
    return page


@app.get(
    "/items/suggest",
    summary="Up to ten item names completing a prefix",
    tags=["search"],
    responses=http.documented_responses(200, "Completions", [422, 503]),
)
def suggest(prefix: Annotated[str, Query(min_length=1, max_length=100)]) -> Suggestions:
    return Suggestions(suggestions=search.suggest(search.engine(), prefix))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
