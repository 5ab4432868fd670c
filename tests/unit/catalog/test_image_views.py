"""How stored image entries read back in an item view (shop.catalog.schemas.image_views)."""

from __future__ import annotations

from shop.catalog.schemas import ImageView, image_views
from shop.catalog.tables import ItemImage


def test_stored_entries_render_as_views() -> None:
    stored = [
        ItemImage(image_id="img_1", status="PENDING", created_at="t", updated_at="t"),  # type: ignore[no-untyped-call]
        ItemImage(  # type: ignore[no-untyped-call]
            image_id="img_2",
            status="READY",
            url="https://cdn/800.webp",
            created_at="t",
            updated_at="t",
            renditions={"200": "https://cdn/200.webp", "800": "https://cdn/800.webp"},
        ),
        {"imageId": "img_3", "status": "REJECTED", "reason": "NOT_AN_IMAGE"},
        "legacy-string-entry",
    ]
    views = image_views(stored)
    assert [view.model_dump(by_alias=True, exclude_none=True) for view in views] == [
        {"imageId": "img_1", "status": "PENDING"},
        {"imageId": "img_2", "status": "READY", "url": "https://cdn/800.webp",
         "renditions": {"200": "https://cdn/200.webp", "800": "https://cdn/800.webp"}},
        {"imageId": "img_3", "status": "REJECTED", "reason": "NOT_AN_IMAGE"},
    ]  # fmt: skip
    assert all(isinstance(view, ImageView) for view in views)
    assert image_views(None) == []
