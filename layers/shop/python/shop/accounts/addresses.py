"""Shipping addresses: the per-country rules (postcode formats, regions, phone numbers) and the tax region an
address ships at.

Pure functions over plain values, no I/O: shop.accounts.profiles stores what check_address accepts. Countries
and their subdivisions come from ISO 3166 (pycountry), phone numbers are parsed and normalised to E.164 by
libphonenumber (phonenumbers); postcode formats are ours, one pattern per country that has a fixed format,
applied to the postcode as normalised (upper case, the customary spacing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
import pycountry

from shop.errors import ValidationFailedError


def _collapse(text: str) -> str:
    return " ".join(text.upper().split())


def _digits_with_hyphen_at(position: int) -> Callable[[str], str]:
    """'1000001' and '100 0001' -> '100-0001' (the customary form, e.g. Japan's)."""

    def normalise(text: str) -> str:
        digits = re.sub(r"[\s-]", "", text)
        return f"{digits[:position]}-{digits[position:]}" if digits.isdigit() and len(digits) > position else text

    return normalise


def _space_before_last(count: int) -> Callable[[str], str]:
    """'sw1a1aa' -> 'SW1A 1AA' (the inward code is the last three characters: GB, CA)."""

    def normalise(text: str) -> str:
        packed = re.sub(r"\s", "", text.upper())
        return f"{packed[:-count]} {packed[-count:]}" if len(packed) > count else packed

    return normalise


def _without_spaces(text: str) -> str:
    return re.sub(r"\s", "", text.upper())


@dataclass(frozen=True)
class PostcodeRule:
    pattern: str  # matched against the normalised postcode, whole
    example: str
    normalise: Callable[[str], str] = _collapse


# Countries whose postcodes have one fixed format. Others take any 2-12 letters, digits, spaces and hyphens.
POSTCODES: dict[str, PostcodeRule] = {
    "US": PostcodeRule(r"\d{5}(-\d{4})?", "94105 or 94105-1234", _without_spaces),
    "GB": PostcodeRule(r"(GIR 0AA|[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2})", "SW1A 1AA", _space_before_last(3)),
    "DE": PostcodeRule(r"\d{5}", "10115", _without_spaces),
    "FR": PostcodeRule(r"\d{5}", "75008", _without_spaces),
    "JP": PostcodeRule(r"\d{3}-\d{4}", "100-0001", _digits_with_hyphen_at(3)),
    "IN": PostcodeRule(r"[1-9]\d{5}", "110001", _without_spaces),
    "CA": PostcodeRule(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d", "K1A 0B1",
                       _space_before_last(3)),
    "NL": PostcodeRule(r"[1-9]\d{3} [A-Z]{2}", "1012 AB", _space_before_last(2)),
    "IT": PostcodeRule(r"\d{5}", "00184", _without_spaces),
    "ES": PostcodeRule(r"(0[1-9]|[1-4]\d|5[0-2])\d{3}", "28013", _without_spaces),
    "AU": PostcodeRule(r"\d{4}", "2000", _without_spaces),
}  # fmt: skip
_ANY_POSTCODE = re.compile(r"[A-Z0-9][A-Z0-9 -]{0,10}[A-Z0-9]")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    kind: str

    def entry(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "type": self.kind}


def postcode_problem(country: str, postal_code: str) -> tuple[str, FieldProblem | None]:
    """The postcode as stored (normalised) and what is wrong with it for the country, if anything."""
    rule = POSTCODES.get(country)
    if rule is None:
        value = _collapse(postal_code)
        if _ANY_POSTCODE.fullmatch(value):
            return value, None
        return value, FieldProblem("postalCode", "Value should be 2-12 letters, digits, spaces or hyphens",
                                   "invalid_postal_code")  # fmt: skip
    value = rule.normalise(postal_code)
    if re.fullmatch(rule.pattern, value):
        return value, None
    message = f"Value is not a {country} postcode (e.g. {rule.example})"
    return value, FieldProblem("postalCode", message, "invalid_postal_code")


def countries_with_regional_tax(tax_rates_bps: Mapping[str, int]) -> frozenset[str]:
    """Countries whose tax differs by region ("US-CA" in the table): their addresses must name the region."""
    return frozenset(name.split("-", 1)[0] for name in tax_rates_bps if "-" in name)


def region_problem(
    country: str, region: str | None, tax_rates_bps: Mapping[str, int]
) -> tuple[str | None, FieldProblem | None]:
    """The region as stored and what is wrong with it. Countries with regional tax need an ISO 3166-2
    subdivision ("CA" or "US-CA", stored as "CA"); elsewhere the region is free text (a county, a prefecture)."""
    text = " ".join(region.split()) if region else None
    if country not in countries_with_regional_tax(tax_rates_bps):
        return text, None
    if not text:
        message = f"Field required for {country} addresses: the state or province decides the tax"
        return None, FieldProblem("region", message, "missing")
    code = text.upper().removeprefix(f"{country}-")
    if pycountry.subdivisions.get(code=f"{country}-{code}") is None:  # type: ignore[no-untyped-call]
        message = f"Value is not a {country} state or province code (e.g. {_example_region(country)})"
        return text, FieldProblem("region", message, "invalid_region")
    return code, None


def _example_region(country: str) -> str:
    found = pycountry.subdivisions.get(country_code=country) or []  # type: ignore[no-untyped-call]
    subdivisions = sorted(str(s.code).split("-", 1)[1] for s in found)
    return subdivisions[0] if subdivisions else "the ISO 3166-2 code"


def phone_problem(country: str | None, phone: str | None) -> tuple[str | None, FieldProblem | None]:
    """The phone number in E.164 ("+14155552671"), read as a national number of the country unless it starts
    with +, and whether it is a possible and valid number."""
    if phone is None:
        return None, None
    try:
        parsed = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return phone, FieldProblem("phone", "Value is not a valid phone number (use +<country code><number>)",
                                   "invalid_phone")  # fmt: skip
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


def is_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def check_address(fields: Mapping[str, Any], tax_rates_bps: Mapping[str, int]) -> dict[str, Any]:
    """The address as stored (camelCase keys, normalised postcode, region and phone), or ValidationFailedError
    naming every field that breaks its country's rules. The schema has checked types and lengths already."""
    country = str(fields["country"]).upper()
    if not is_country(country):
        raise ValidationFailedError.of_field("country", "Value should be an ISO 3166-1 alpha-2 country code",
                                             "invalid_country")  # fmt: skip
    postal_code, postcode_wrong = postcode_problem(country, str(fields["postalCode"]))
    region, region_wrong = region_problem(country, fields.get("region"), tax_rates_bps)
    phone, phone_wrong = phone_problem(country, fields.get("phone"))
    problems = [problem for problem in (postcode_wrong, region_wrong, phone_wrong) if problem is not None]
    if problems:
        raise ValidationFailedError(details={"fields": [problem.entry() for problem in problems]})
    return {**fields, "country": country, "postalCode": postal_code, "region": region, "phone": phone}


class ShippingCountryNotServed(Exception):
    """No tax rate is configured for the address's country (nor its region): the shop does not ship there."""


def tax_region_of(country: str, region: str | None, tax_rates_bps: Mapping[str, int]) -> str:
    """The tax table's region an address ships at: "US-CA" when the table has it, else the country ("US")."""
    for candidate in (f"{country}-{region}".upper() if region else None, country.upper()):
        if candidate and candidate in tax_rates_bps:
            return candidate
    raise ShippingCountryNotServed(country)
