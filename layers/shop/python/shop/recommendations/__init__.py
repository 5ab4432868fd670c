"""Recommendations: behaviour events into a Parquet lake (`lake`, imported only by the lake writer: it needs
pyarrow), the batch job's versioned output in the Recommendations table (jobs/recommendations.py), and
serving it with serve-time corrections (`serving`): GET /recommendations/home, GET /me/recommendations,
GET /items/{itemId}/related.
"""

from shop.recommendations.schemas import HomeRecommendations, RecommendedItem, RelatedItems
from shop.recommendations.serving import current_version, home, on_event, related

__all__ = ["HomeRecommendations", "RecommendedItem", "RelatedItems", "current_version",
           "home", "on_event", "related"]  # fmt: skip
