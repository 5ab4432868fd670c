"""What GET /items and GET /items/suggest answer: a typed page of item summaries, facets and a cursor."""

from __future__ import annotations

from pydantic import Field

from shop.validation import ViewModel


class ItemSummary(ViewModel):
    """What a search hit shows about an item (shop.search.documents.summary builds it)."""

    item_id: str
    name: str
    brand: str | None
    category: str | None
    price: int
    currency: str
    tags: list[str]
    created_at: str
    available: int = Field(description="Units available now, over all of the item's variants.")
    in_stock: bool
    image: str | None = Field(description="The item's first image, if it has one.")


class Facet(ViewModel):
    value: str
    count: int


class PriceFacet(ViewModel):
    """A price range in minor units, [from, to); null at an open end."""

    from_: int | None = Field(alias="from")
    to: int | None
    count: int


class Facets(ViewModel):
    category: list[Facet]
    brand: list[Facet]
    price: list[PriceFacet]


class SearchPage(ViewModel):
    items: list[ItemSummary]
    next_cursor: str | None = Field(description="Send it as `cursor` for the next page; null on the last one.")
    total: int | None = Field(description="Matches of the whole query (not only this page).")
    facets: Facets | None = Field(description="Counts over the whole query.")


class Suggestions(ViewModel):
    suggestions: list[str]
