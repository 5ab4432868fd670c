"""What a seller may send to list an item: strict types, limits, and text normalised before it is stored."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shop.catalog.schemas import MAX_PRICE, MAX_VARIANTS, NewItem
from shop.validation import field_name


def item(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Wireless Mouse", "description": "Ergonomic", "price": 999, "quantity": 100}
    body.update(overrides)
    return body


def variant(variant_id: str | None = None, stock: int = 1, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"attributes": {"size": "M"}, "stock": stock, **fields}
    if variant_id is not None:
        body["variantId"] = variant_id
    return body


def rejected_fields(body: Any) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        NewItem.model_validate(body)
    return [field_name(error["loc"]) for error in raised.value.errors()]


# ---------------------------------------------------------------- accepted, and how it is normalised
NORMALISED = {
    "name: NFC, whitespace collapsed and trimmed": (
        item(name="  Cafe\u0301 \t  Mug \n"),
        "name",
        "Caf\u00e9 Mug",
    ),
    "name: control characters removed": (item(name="Mo\x00use\x7f\x1b"), "name", "Mouse"),
    "name: lone surrogates removed": (item(name="Mouse\ud800"), "name", "Mouse"),
    "description keeps paragraphs": (
        item(description=" First  line \r\nsecond\n\n\n\nThird "),
        "description",
        "First line\nsecond\n\nThird",
    ),
    "description may be empty": (item(description="   "), "description", ""),
    "tags lower-cased, trimmed and de-duplicated in order": (
        item(tags=["Mug", "mug", " Coffee ", "MUG"]),
        "tags",
        ["mug", "coffee"],
    ),
    "currency defaults to USD": (item(), "currency", "USD"),
    "currency upper-cased": (item(currency="eur"), "currency", "EUR"),
    "attribute names and texts normalised, other values kept": (
        item(attributes={" Color ": " dark  red ", "wireless": True, "dpi": 1600, "weight": 0.095}),
        "attributes",
        {"Color": "dark red", "wireless": True, "dpi": 1600, "weight": 0.095},
    ),
    "tiny floats rounded to nine decimals": (item(specifications={"e": 1e-200}), "specifications", {"e": 0.0}),
    "optional fields default to empty": (item(), "variants", []),
    "price at the maximum": (item(price=MAX_PRICE), "price", MAX_PRICE),
    "zero stock is fine": (item(quantity=0), "quantity", 0),
}


@pytest.mark.parametrize("case", sorted(NORMALISED))
def test_accepted_and_normalised(case):
    body, field, expected = NORMALISED[case]
    assert getattr(NewItem.model_validate(body), field) == expected


def test_variants_keep_their_ids_stock_and_optional_price():
    listed = NewItem.model_validate(
        item(quantity=5, variants=[variant("RD-M", 2, sku="S-1"), variant(None, 3, price=1299)])
    )
    assert [(v.variant_id, v.sku, v.stock, v.price) for v in listed.variants] == [
        ("RD-M", "S-1", 2, None),
        (None, None, 3, 1299),
    ]


# ---------------------------------------------------------------- rejected, naming the field
REJECTED = {
    "price as a float": (item(price=9.99), "price"),
    "price as a string": (item(price="999"), "price"),
    "price as a bool": (item(price=True), "price"),
    "price zero": (item(price=0), "price"),
    "price negative": (item(price=-5), "price"),
    "price over the maximum": (item(price=MAX_PRICE + 1), "price"),
    "quantity negative": (item(quantity=-1), "quantity"),
    "quantity a float": (item(quantity=1.0), "quantity"),
    "quantity over a million": (item(quantity=1_000_001), "quantity"),
    "name missing": ({k: v for k, v in item().items() if k != "name"}, "name"),
    "name blank once trimmed": (item(name=" \t\n "), "name"),
    "name of control characters only": (item(name="\x00\x01"), "name"),
    "name over 200 characters": (item(name="x" * 201), "name"),
    "name not a string": (item(name=5), "name"),
    "description over 5000 characters": (item(description="x" * 5001), "description"),
    "unknown field": (item(discount=10), "discount"),
    "snake_case spelling of a field": (
        item(variants=[{"variant_id": "A", "attributes": {}, "stock": 1}], quantity=1),
        "variants[0].variant_id",
    ),
    "currency not three letters": (item(currency="US"), "currency"),
    "currency with a digit": (item(currency="US1"), "currency"),
    "tags not a list": (item(tags="mouse"), "tags"),
    "more than 20 tags": (item(tags=[f"t{n}" for n in range(21)]), "tags"),
    "tag over 40 characters": (item(tags=["x" * 41]), "tags[0]"),
    "blank tag": (item(tags=["  "]), "tags[0]"),
    "attribute value a list": (item(attributes={"color": ["red"]}), "attributes.color"),
    "attribute value null": (item(attributes={"color": None}), "attributes.color"),
    "attribute integer beyond 2^53": (item(attributes={"n": 2**53}), "attributes.n"),
    "attribute names colliding once normalised": (item(attributes={"Color": "red", " Color ": "blue"}), "attributes"),
    "more than 50 attributes": (item(specifications={f"k{n}": n for n in range(51)}), "specifications"),
    "sku blank": (item(sku=" "), "sku"),
    "quantity differs from the variants' stock": (item(quantity=5, variants=[variant("A", 3)]), "quantity"),
    "duplicate variantId": (item(quantity=2, variants=[variant("A"), variant("A")]), "variants[1].variantId"),
    "duplicate variant sku": (item(quantity=2, variants=[variant(sku="S"), variant(sku="S")]), "variants[1].sku"),
    "reserved variantId": (item(quantity=1, variants=[variant("default")]), "variants[0].variantId"),
    "variantId with spaces": (item(quantity=1, variants=[variant("a b")]), "variants[0].variantId"),
    "variant stock negative": (item(quantity=0, variants=[variant("A", -1)]), "variants[0].stock"),
    "variant price a float": (item(quantity=1, variants=[variant("A", price=1.5)]), "variants[0].price"),
    "variant stock missing": (item(quantity=0, variants=[{"variantId": "A"}]), "variants[0].stock"),
    "too many variants": (
        item(quantity=MAX_VARIANTS + 1, variants=[variant() for _ in range(MAX_VARIANTS + 1)]),
        "variants",
    ),
    "body not an object": (["Wireless Mouse"], "body"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_naming_the_field(case):
    body, field = REJECTED[case]
    assert field in rejected_fields(body)


def test_every_invalid_field_is_reported_at_once():
    assert set(rejected_fields(item(price=9.99, quantity=-1, name="", extra=1))) == {
        "price",
        "quantity",
        "name",
        "extra",
    }
