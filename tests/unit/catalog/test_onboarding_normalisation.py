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


def test_invisible_characters_are_removed_before_storing():
    item = NewItem.model_validate(
        {**BASE, "name": "Co\u00adffee\u200b Mug\ufeff", "description": "Stone\u2060ware\u200e"}
    )
    assert (item.name, item.description) == ("Coffee Mug", "Stoneware")


def test_joiners_and_emoji_selectors_are_kept():
    name = "\u0915\u094d\u200d\u0937 tea \U0001f468\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f"
    assert NewItem.model_validate({**BASE, "name": name}).name == name


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u200f"])
def test_bidi_controls_are_refused_in_names_and_removed_from_descriptions(control):
    with pytest.raises(ValidationError) as refused:
        NewItem.model_validate({**BASE, "name": f"photo{control}gpj.exe"})
    assert [(field_name(e["loc"]), e["type"]) for e in refused.value.errors()] == [("name", "bidi_control")]
    assert NewItem.model_validate({**BASE, "description": f"see {control}here"}).description == "see here"
