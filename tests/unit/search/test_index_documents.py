"""What an index document keeps of an item: a search hit's picture is the item's first READY image."""

from __future__ import annotations

from shop.search.documents import merge_item, summary

ITEM = {"itemId": "itm_1", "name": "Lamp", "price": 1200, "status": "ACTIVE", "version": 3, "updatedAt": "t"}


def test_a_hit_shows_the_first_ready_image_and_nothing_before_one_is_ready() -> None:
    images = [
        {"imageId": "img_1", "status": "REJECTED", "reason": "NOT_AN_IMAGE"},
        {"imageId": "img_2", "status": "PENDING"},
        {"imageId": "img_3", "status": "READY", "url": "https://cdn/img_3/800.webp", "renditions": {}},
        {"imageId": "img_4", "status": "READY", "url": "https://cdn/img_4/800.webp", "renditions": {}},
    ]
    document = merge_item(None, {**ITEM, "images": images}, removed=False, seq=1)
    assert document is not None
    assert summary(document)["image"] == "https://cdn/img_3/800.webp"

    waiting = merge_item(None, {**ITEM, "images": images[:2]}, removed=False, seq=2)
    assert waiting is not None
    assert summary(waiting)["image"] is None
