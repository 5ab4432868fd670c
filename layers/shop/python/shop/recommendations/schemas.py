"""The answers of GET /recommendations/home, GET /me/recommendations and GET /items/{itemId}/related."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shop.validation import ViewModel

HomeStrategy = Literal["personalised", "trending"]
Reason = Literal["personalised", "trending", "bought_together", "viewed_together", "same_category"]


class RecommendedItem(ViewModel):
    item_id: str
    name: str
    price: int
    currency: str
    category: str | None
    reason: Reason = Field(description="Which list put the item here.")
    score: float | None = Field(description="The list's own score (ALS affinity, significance, decayed "
                                            "popularity); null where the item came from a serve-time list.")


class NewArrival(ViewModel):
    item_id: str
    name: str
    price: int
    currency: str
    category: str | None


class HomeRecommendations(ViewModel):
    strategy: HomeStrategy = Field(description="personalised: the caller's own affinities answered; trending: "
                                               "the caller is anonymous or new to the job's last run.")
    version: str | None = Field(description="The job's output version that served (null before its first run).")
    items: list[RecommendedItem]
    new_arrivals: list[NewArrival] = Field(description="Items listed in the last days, newest first, in the "
                                                       "categories of `items` (any category when none).")


class RelatedItems(ViewModel):
    item_id: str
    version: str | None
    items: list[RecommendedItem] = Field(description="Bought together, then viewed together, then the same "
                                                     "category (new arrivals and trending), without repeats.")
