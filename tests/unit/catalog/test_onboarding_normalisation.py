"""How seller text is normalised on the way in, and what a PATCH body may hold."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shop.catalog.schemas import ItemChanges, NewItem
from shop.validation import field_name

BASE = {"name": "Mug", "description": "", "price": 999, "quantity": 1}


def test_category_is_lower_cased_and_brand_kept_as_given():
    item = NewItem.model_validate({**BASE, "category": "  Home   & Kitchen ", "brand": " iPhone  Cases "})
    assert item.category == "home & kitchen"
    assert item.brand == "iPhone Cases"


def test_tags_are_deduplicated_after_normalising():
    item = NewItem.model_validate({**BASE, "tags": ["Cafe\u0301", "café", " CAFÉ ", "mug"]})
    assert item.tags == ["café", "mug"]


def test_changes_are_normalised_like_new_items():
    changes = ItemChanges.model_validate(
        {"version": 3, "name": "  New \t name ", "category": "Books", "tags": ["A", "a"]}
    )
    assert (changes.name, changes.category, changes.tags) == ("New name", "books", ["a"])
    assert changes.changed_fields() == {"name", "category", "tags"}


def test_brand_and_category_may_be_cleared_but_not_the_name():
    assert ItemChanges.model_validate({"version": 1, "brand": None}).changed_fields() == {"brand"}
    with pytest.raises(ValidationError) as refused:
        ItemChanges.model_validate({"version": 1, "name": None})
    assert [field_name(e["loc"]) for e in refused.value.errors()] == ["name"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "version"),
        ({"version": 0, "name": "x"}, "version"),
        ({"version": "2", "name": "x"}, "version"),
        ({"version": 1}, "body"),
        ({"version": 1, "quantity": 5}, "quantity"),  # stock goes through inventory
        ({"version": 1, "sku": "X"}, "sku"),
        ({"version": 1, "variants": [{"variantId": "v1", "price": 0}]}, "variants[0].price"),
    ],
)
def test_bad_changes_name_their_field(body, field):
    with pytest.raises(ValidationError) as refused:
        ItemChanges.model_validate(body)
    assert field in [field_name(e["loc"]) for e in refused.value.errors()]
