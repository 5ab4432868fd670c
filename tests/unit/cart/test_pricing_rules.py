"""Totals, tax, shipping, the price hold and the merge rules: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shop.cart.carts import Line, Offer, merge_lines, reprice
from shop.cart.pricing import (
    PricingPolicy,
    UnknownRegionError,
    capped_quantity,
    price_is_held,
    region_of,
    shipping_for,
    tax_for,
    totals_for,
)
from shop.config import ConfigurationError, load_cart_settings

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HOLD = timedelta(minutes=30)
POLICY = PricingPolicy(
    tax_rates_bps={"US": 0, "US-CA": 725, "DE": 1900},
    default_region="US",
    shipping_flat_fee=499,
    free_shipping_threshold=5000,
    price_hold=HOLD,
)


def line(item="itm_a", quantity=1, price=1000, taken=NOW, variant="default"):
    return Line(item, variant, f"name {item}", quantity, price, taken)


def offer(item="itm_a", price=1000, available=100, variant="default"):
    return Offer(item, variant, f"name {item}", price, "USD", available)


@pytest.mark.parametrize(
    ("subtotal", "bps", "tax"),
    [(1999, 825, 165), (1000, 725, 73), (10, 725, 1), (6, 725, 0), (0, 1900, 0), (12345, 0, 0), (200, 2500, 50)],
)
def test_tax_is_rounded_half_up_to_the_minor_unit(subtotal, bps, tax):
    assert tax_for(subtotal, bps) == tax


def test_shipping_is_flat_below_the_threshold_and_free_at_or_above_it():
    assert shipping_for(4999, flat_fee=499, free_threshold=5000) == 499
    assert shipping_for(5000, flat_fee=499, free_threshold=5000) == 0
    assert shipping_for(0, flat_fee=499, free_threshold=5000) == 0  # an empty cart ships nothing


def test_totals_add_up_and_tax_applies_to_the_subtotal_only():
    totals = totals_for([1000, 2 * 999], POLICY, "us-ca")
    assert (totals.subtotal, totals.tax, totals.shipping) == (2998, 217, 499)
    assert totals.total == 2998 + 217 + 499
    assert totals_for([6000], POLICY).tax == 0  # the default region, US, has no tax configured
    assert totals_for([6000], POLICY, "DE").total == 6000 + 1140


def test_unknown_region_is_refused():
    assert region_of(POLICY, None) == "US"
    with pytest.raises(UnknownRegionError):
        region_of(POLICY, "MARS")


def test_a_price_is_held_for_the_window_inclusive():
    assert price_is_held(NOW - HOLD, NOW, HOLD)
    assert not price_is_held(NOW - HOLD - timedelta(seconds=1), NOW, HOLD)


def test_reprice_touches_only_lines_past_the_hold_window():
    fresh, old = line("itm_a", taken=NOW - timedelta(minutes=5)), line("itm_b", taken=NOW - timedelta(hours=2))
    prices = {("itm_a", "default"): 1500, ("itm_b", "default"): 1200}
    repriced = reprice([fresh, old], prices, now=NOW, hold=HOLD)
    assert repriced[0] == fresh
    assert (repriced[1].unit_price, repriced[1].price_taken_at) == (1200, NOW)


def test_capped_quantity():
    assert capped_quantity(7, available=100, line_limit=10) == 7
    assert capped_quantity(15, available=100, line_limit=10) == 10
    assert capped_quantity(7, available=3, line_limit=10) == 3
    assert capped_quantity(7, available=0, line_limit=10) == 0


def test_merge_adds_quantities_caps_them_and_takes_todays_price():
    mine = [line("itm_a", 3, 1000, NOW - timedelta(days=1)), line("itm_keep", 1, 500, NOW - timedelta(days=1))]
    guest = [line("itm_a", 4), line("itm_b", 9), line("itm_c", 2), line("itm_gone", 1), line("itm_none", 2)]
    offers = {
        ("itm_a", "default"): offer("itm_a", 1100, available=5),  # 3 + 4 capped by stock to 5
        ("itm_b", "default"): offer("itm_b", 200, available=100),
        ("itm_c", "default"): offer("itm_c", 300, available=3),
        ("itm_gone", "default"): None,  # withdrawn since the guest added it
        ("itm_none", "default"): offer("itm_none", 300, available=0),
    }
    merged = {m.item_id: m for m in merge_lines(mine, guest, offers, now=NOW, line_limit=8)}
    assert list(merged) == ["itm_a", "itm_keep", "itm_b", "itm_c"]
    assert (merged["itm_a"].quantity, merged["itm_a"].unit_price, merged["itm_a"].price_taken_at) == (5, 1100, NOW)
    assert merged["itm_a"].low_stock
    assert merged["itm_keep"] == mine[1]  # lines only the user had are left alone
    assert merged["itm_b"].quantity == 8  # the per-line limit
    assert merged["itm_c"].quantity == 2


def test_merge_never_grows_the_cart_beyond_its_line_limit():
    mine = [line(f"itm_{n}") for n in range(3)]
    guest = [line("itm_0", 1), line("itm_new", 1)]
    offers = {("itm_0", "default"): offer("itm_0"), ("itm_new", "default"): offer("itm_new")}
    merged = merge_lines(mine, guest, offers, now=NOW, max_lines=3)
    assert [m.item_id for m in merged] == ["itm_0", "itm_1", "itm_2"]
    assert merged[0].quantity == 2


def test_cart_settings_defaults_and_checks():
    loaded = load_cart_settings({"CARTS_TABLE": "Carts"})
    assert (loaded.guest_cart_ttl_seconds, loaded.user_cart_ttl_seconds, loaded.price_hold_seconds) == (
        86400, 2592000, 1800,
    )
    assert loaded.tax_rates_bps == {"US": 0} and loaded.default_tax_region == "US"
    with pytest.raises(ConfigurationError):
        load_cart_settings({})
    with pytest.raises(ConfigurationError):
        load_cart_settings({"CARTS_TABLE": "Carts", "TAX_RATES_BPS": '{"US": 0}', "DEFAULT_TAX_REGION": "DE"})
    with pytest.raises(ConfigurationError):
        load_cart_settings({"CARTS_TABLE": "Carts", "TAX_RATES_BPS": '{"US": 1.5}'})
