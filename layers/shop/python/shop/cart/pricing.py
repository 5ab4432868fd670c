"""Cart pricing: totals (subtotal, tax by shipping region, shipping) and the price-hold policy.

Pure functions over plain values, no I/O: shop.cart.carts reads the carts and items, this module decides what
they cost. docs/pricing.md explains the policy; every amount is integer minor units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

BASIS_POINTS = 10_000


@dataclass(frozen=True)
class Totals:
    """What a cart costs, in minor units: total = subtotal + tax + shipping."""

    subtotal: int
    tax: int
    shipping: int
    total: int


@dataclass(frozen=True)
class PricingPolicy:
    tax_rates_bps: Mapping[str, int]  # shipping region -> basis points (825 = 8.25 %)
    default_region: str
    shipping_flat_fee: int
    free_shipping_threshold: int
    price_hold: timedelta


class UnknownRegionError(ValueError):
    """The shipping region has no tax rate configured."""


def tax_for(subtotal: int, rate_bps: int) -> int:
    """Tax on the subtotal, rounded half up to the minor unit (1999 at 8.25 % -> 165)."""
    return (subtotal * rate_bps + BASIS_POINTS // 2) // BASIS_POINTS


def shipping_for(subtotal: int, *, flat_fee: int, free_threshold: int) -> int:
    """Nothing to ship costs nothing; a subtotal at or above the threshold ships free; else the flat fee."""
    if subtotal <= 0 or subtotal >= free_threshold:
        return 0
    return flat_fee


def region_of(policy: PricingPolicy, region: str | None) -> str:
    """The region whose tax applies: the one asked for (case-insensitive) or the default."""
    chosen = (region or policy.default_region).strip().upper()
    if chosen not in policy.tax_rates_bps:
        raise UnknownRegionError(chosen)
    return chosen


def totals_for(line_totals: Iterable[int], policy: PricingPolicy, region: str | None = None) -> Totals:
    """Subtotal of the lines, tax of the region on the subtotal (shipping is not taxed), shipping."""
    subtotal = sum(line_totals)
    tax = tax_for(subtotal, policy.tax_rates_bps[region_of(policy, region)])
    shipping = shipping_for(subtotal, flat_fee=policy.shipping_flat_fee, free_threshold=policy.free_shipping_threshold)
    return Totals(subtotal=subtotal, tax=tax, shipping=shipping, total=subtotal + tax + shipping)


def price_is_held(price_taken_at: datetime, now: datetime, hold: timedelta) -> bool:
    """A snapshot price is honoured while it is younger than the hold window (the boundary included)."""
    return now - price_taken_at <= hold


def capped_quantity(requested: int, *, available: int, line_limit: int) -> int:
    """The units a merged line may hold: what was asked for, but never more than stock or the line limit."""
    return max(0, min(requested, available, line_limit))
