"""The address rules: postcode formats per country, regions where tax differs by region, phone numbers."""

from __future__ import annotations

from typing import Any

import pytest

from shop.accounts.addresses import ShippingCountryNotServed, check_address, tax_region_of
from shop.errors import ValidationFailedError

TAX_RATES = {"US": 0, "US-CA": 725, "US-NY": 400, "DE": 1900, "GB": 2000}


def address(**fields: Any) -> dict[str, Any]:
    return {"name": "Ada Lovelace", "line1": "1 Main St", "line2": None, "city": "Somewhere", "region": None,
            "postalCode": "00000", "country": "US", "phone": None, **fields}  # fmt: skip


def problems(fields: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailedError) as refused:
        check_address(fields, TAX_RATES)
    return {entry["field"]: entry["type"] for entry in refused.value.details["fields"]}


# (country, region, postcode as typed, postcode as stored)
VALID = [
    ("US", "CA", "94105", "94105"),
    ("US", "NY", "10001-1234", "10001-1234"),
    ("US", "US-WA", "98101", "98101"),
    ("GB", None, "SW1A 1AA", "SW1A 1AA"),
    ("GB", None, "sw1a1aa", "SW1A 1AA"),
    ("GB", None, "M1 1AE", "M1 1AE"),
    ("GB", None, "EC1A 1BB", "EC1A 1BB"),
    ("DE", None, "10115", "10115"),
    ("FR", None, "75008", "75008"),
    ("JP", None, "100-0001", "100-0001"),
    ("JP", None, "1000001", "100-0001"),
    ("IN", None, "110001", "110001"),
    ("IN", None, "560 001", "560001"),
    ("CA", "ON", "k1a 0b1", "K1A 0B1"),
    ("NL", None, "1012AB", "1012 AB"),
    ("BR", None, "01310-100", "01310-100"),  # no fixed format here: letters, digits, spaces, hyphens
]
INVALID = [
    ("US", "CA", "9410"),
    ("US", "CA", "941050"),
    ("US", "CA", "94105-12"),
    ("US", "CA", "ABCDE"),
    ("GB", None, "SW1A"),
    ("GB", None, "12345"),
    ("GB", None, "SW1A 1AI"),  # I is never in the inward code's letters
    ("DE", None, "1011"),
    ("DE", None, "101155"),
    ("FR", None, "7500"),
    ("FR", None, "75 008X"),
    ("JP", None, "100-001"),
    ("JP", None, "10000011"),
    ("IN", None, "011001"),  # Indian PINs never start with 0
    ("IN", None, "11001"),
    ("BR", None, "!!"),
]


@pytest.mark.parametrize(("country", "region", "typed", "stored"), VALID)
def test_a_valid_postcode_is_accepted_and_normalised(country: str, region: str | None, typed: str, stored: str) -> None:
    checked = check_address(address(country=country, region=region, postalCode=typed), TAX_RATES)
    assert checked["postalCode"] == stored


@pytest.mark.parametrize(("country", "region", "typed"), INVALID)
def test_an_invalid_postcode_is_refused_naming_the_field(country: str, region: str | None, typed: str) -> None:
    assert problems(address(country=country, region=region, postalCode=typed)) == {"postalCode": "invalid_postal_code"}


def test_a_country_with_regional_tax_needs_a_real_region() -> None:
    assert problems(address(postalCode="94105")) == {"region": "missing"}
    assert problems(address(postalCode="94105", region="ZZ")) == {"region": "invalid_region"}
    assert check_address(address(postalCode="94105", region="us-ca"), TAX_RATES)["region"] == "CA"


def test_elsewhere_the_region_is_free_text() -> None:
    checked = check_address(address(country="GB", postalCode="SW1A 1AA", region="Greater  London"), TAX_RATES)
    assert checked["region"] == "Greater London"


def test_the_country_must_be_iso_3166_alpha_2() -> None:
    assert problems(address(country="XX")) == {"country": "invalid_country"}


def test_phone_numbers_are_read_in_the_country_and_stored_in_e164() -> None:
    checked = check_address(address(country="GB", postalCode="SW1A 1AA", phone="020 7946 0958"), TAX_RATES)
    assert checked["phone"] == "+442079460958"
    assert problems(address(region="CA", postalCode="94105", phone="123")) == {"phone": "invalid_phone"}


def test_every_broken_field_is_named_at_once() -> None:
    assert problems(address(postalCode="x", phone="1")) == {
        "postalCode": "invalid_postal_code", "region": "missing", "phone": "invalid_phone"}  # fmt: skip


@pytest.mark.parametrize(
    ("country", "region", "tax_region"),
    [("US", "CA", "US-CA"), ("US", "WA", "US"), ("DE", None, "DE"), ("GB", "Kent", "GB")],
)
def test_the_tax_region_is_the_most_specific_one_the_table_has(
    country: str, region: str | None, tax_region: str
) -> None:
    assert tax_region_of(country, region, TAX_RATES) == tax_region


def test_a_country_without_a_tax_rate_is_not_served() -> None:
    with pytest.raises(ShippingCountryNotServed):
        tax_region_of("FR", None, TAX_RATES)
