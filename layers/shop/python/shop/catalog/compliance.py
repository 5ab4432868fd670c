"""Marketplace rules a listing must follow beyond its schema: no banned terms, a sane price for its category.

The rules are data, not code: `data/banned_terms.json` and `data/category_price_ranges.json`, each with a
version that errors quote, so a seller (or support) can tell which list refused a listing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shop.errors import BannedTermError, PriceOutOfRangeError
from shop.validation import is_default_ignorable

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class PriceRange:
    min: int
    max: int


@dataclass(frozen=True)
class Listing:
    """What the rules look at: the text a buyer will read and every price the item sells at."""

    texts: Mapping[str, str]  # field name (as the API spells it) -> text
    prices: Mapping[str, int]  # field name -> minor units
    category: str | None


@dataclass(frozen=True)
class BannedTerms:
    version: str
    terms: tuple[str, ...]
    pattern: re.Pattern[str]

    def first_in(self, text: str) -> str | None:
        match = self.pattern.search(fold(text))
        return None if match is None else match.group(0)


@dataclass(frozen=True)
class PriceRules:
    version: str
    default: PriceRange
    categories: Mapping[str, PriceRange]

    def range_for(self, category: str | None) -> PriceRange:
        return self.categories.get(category or "", self.default)


def fold(text: str) -> str:
    """Text as the banned-term matcher compares it: no invisible characters, compatibility forms, no
    accents, case-folded.

    Invisible characters go first (a soft hyphen or a zero-width space or joiner inside a banned word
    would otherwise hide it); NFKC turns compatibility look-alikes (full-width letters, ligatures) into
    plain ones, so a term spelled in full-width letters or with combining accents is still caught.
    """
    visible = "".join(ch for ch in text if not is_default_ignorable(ch))
    decomposed = unicodedata.normalize("NFKD", visible)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped).casefold()


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    # Whole words only, so a term inside a longer word ("stolen" in "stolenwax") is no match; any run of
    # spaces or punctuation between the words of a term still is ("rhino-horn", "rhino  horn").
    alternatives = []
    for term in sorted({fold(term) for term in terms}, key=len, reverse=True):
        words = re.split(r"[\s\-_]+", term.strip())
        alternatives.append(r"[\s\W_]+".join(re.escape(word) for word in words if word))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def parse_banned_terms(document: Mapping[str, Any]) -> BannedTerms:
    terms = tuple(str(term) for term in document["terms"] if str(term).strip())
    return BannedTerms(version=str(document["version"]), terms=terms, pattern=_term_pattern(terms))


def parse_price_rules(document: Mapping[str, Any]) -> PriceRules:
    def price_range(value: Mapping[str, Any]) -> PriceRange:
        low, high = int(value["min"]), int(value["max"])
        if not 0 < low <= high:
            raise ValueError(f"invalid price range {value}")
        return PriceRange(low, high)

    return PriceRules(
        version=str(document["version"]),
        default=price_range(document["default"]),
        categories={name.lower(): price_range(value) for name, value in document["categories"].items()},
    )


@cache
def banned_terms() -> BannedTerms:
    return parse_banned_terms(json.loads((DATA / "banned_terms.json").read_text(encoding="utf-8")))


@cache
def price_rules() -> PriceRules:
    return parse_price_rules(json.loads((DATA / "category_price_ranges.json").read_text(encoding="utf-8")))


def check_listing(listing: Listing, *, terms: BannedTerms | None = None, prices: PriceRules | None = None) -> None:
    """Raise the first rule the listing breaks: BannedTermError (422) or PriceOutOfRangeError (422)."""
    terms = terms or banned_terms()
    prices = prices or price_rules()
    for field, text in listing.texts.items():
        found = terms.first_in(text)
        if found is not None:
            raise BannedTermError(
                f"{field} contains a term that is not allowed: {found!r}",
                details={"field": field, "term": found, "listVersion": terms.version},
            )
    allowed = prices.range_for(listing.category)
    for field, price in listing.prices.items():
        if not allowed.min <= price <= allowed.max:
            where = f"category {listing.category!r}" if listing.category in prices.categories else "any item"
            raise PriceOutOfRangeError(
                f"{field} {price} is outside {allowed.min}..{allowed.max} (minor units) allowed for {where}",
                details={
                    "field": field,
                    "price": price,
                    "category": listing.category,
                    "min": allowed.min,
                    "max": allowed.max,
                    "rulesVersion": prices.version,
                },
            )


def texts_of(
    *,
    name: str,
    description: str,
    brand: str | None,
    category: str | None,
    tags: Iterable[str],
    attributes: Mapping[str, Any],
    specifications: Mapping[str, Any],
    variant_attributes: Iterable[Mapping[str, Any]] = (),
) -> dict[str, str]:
    """Every buyer-visible text of an item, keyed by the field name errors should point at."""
    texts = {"name": name, "description": description}
    if brand:
        texts["brand"] = brand
    if category:
        texts["category"] = category
    for index, tag in enumerate(tags):
        texts[f"tags[{index}]"] = tag
    for field, values in (("attributes", attributes), ("specifications", specifications)):
        for key, value in values.items():
            texts[f"{field}.{key}"] = f"{key} {value}" if isinstance(value, str) else key
    for index, values in enumerate(variant_attributes):
        for key, value in values.items():
            texts[f"variants[{index}].attributes.{key}"] = f"{key} {value}" if isinstance(value, str) else key
    return texts
