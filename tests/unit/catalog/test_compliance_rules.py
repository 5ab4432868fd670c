"""Compliance rules: banned terms as whole words despite case, accents and look-alikes; price per category."""

from __future__ import annotations

import json

import pytest

from shop.catalog import compliance
from shop.catalog.compliance import DATA, Listing, check_listing, parse_banned_terms, parse_price_rules
from shop.errors import BannedTermError, PriceOutOfRangeError

TERMS = parse_banned_terms({"version": "t-1", "terms": ["counterfeit", "rhino horn", "ivory"]})
PRICES = parse_price_rules(
    {"version": "p-1", "default": {"min": 1, "max": 1000}, "categories": {"Books": {"min": 50, "max": 500}}}
)


def listing(text: str = "A fine mug", price: int = 100, category: str | None = None) -> Listing:
    return Listing(texts={"name": text}, prices={"price": price}, category=category)


@pytest.mark.parametrize(
    "text",
    [
        "COUNTERFEIT watch",
        "genuine ivory",
        "Rhino-Horn powder",
        "rhino   horn",
        "\uff49\uff56\uff4f\uff52\uff59 comb",  # full-width letters
        "i\u0301vory",
        "coun\u00adterfeit bag",  # a soft hyphen
        "iv\u200bory",  # a zero-width space
        "counter\u200dfeit",  # a zero-width joiner
        "rhino\u2060 horn",  # a word joiner
        "iv\u2066ory",  # a bidi isolate
    ],
)
def test_banned_terms_are_found_whatever_their_spelling(text):
    with pytest.raises(BannedTermError) as refused:
        check_listing(listing(text), terms=TERMS, prices=PRICES)
    assert refused.value.details["field"] == "name" and refused.value.details["listVersion"] == "t-1"


@pytest.mark.parametrize("text", ["ivorycoast blend", "counterfeiter-proof seal", "rhinoceros plush", "Rhino hornbill"])
def test_terms_inside_longer_words_are_allowed(text):
    check_listing(listing(text), terms=TERMS, prices=PRICES)


def test_price_range_of_the_category_applies_and_is_named():
    with pytest.raises(PriceOutOfRangeError) as refused:
        check_listing(listing(price=10, category="books"), terms=TERMS, prices=PRICES)
    assert refused.value.details == {
        "field": "price", "price": 10, "category": "books", "min": 50, "max": 500, "rulesVersion": "p-1",
    }  # fmt: skip
    assert "50..500" in refused.value.message
    check_listing(listing(price=10, category="mugs"), terms=TERMS, prices=PRICES)  # default range
    with pytest.raises(PriceOutOfRangeError):
        check_listing(listing(price=1001, category=None), terms=TERMS, prices=PRICES)


def test_variant_prices_are_checked_too():
    priced = Listing(texts={}, prices={"price": 100, "variants[1].price": 600}, category="books")
    with pytest.raises(PriceOutOfRangeError) as refused:
        check_listing(priced, terms=TERMS, prices=PRICES)
    assert refused.value.details["field"] == "variants[1].price"


def test_texts_cover_every_buyer_visible_field():
    texts = compliance.texts_of(
        name="n", description="d", brand="b", category="c", tags=["t"], attributes={"color": "ivory"},
        specifications={"w": 1}, variant_attributes=[{"finish": "matte"}],
    )  # fmt: skip
    assert texts == {
        "name": "n", "description": "d", "brand": "b", "category": "c", "tags[0]": "t",
        "attributes.color": "color ivory", "specifications.w": "w", "variants[0].attributes.finish": "finish matte",
    }  # fmt: skip


def test_the_shipped_data_files_are_versioned_and_valid():
    terms = json.loads((DATA / "banned_terms.json").read_text())
    prices = json.loads((DATA / "category_price_ranges.json").read_text())
    assert terms["version"] and prices["version"] and terms["terms"]
    rules = parse_price_rules(prices)
    assert all(name == name.lower() for name in rules.categories)
    # The rules must accept the demo item every test and the README use.
    check_listing(listing("Wireless Mouse", 999, "electronics"))
