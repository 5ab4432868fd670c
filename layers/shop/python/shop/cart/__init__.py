"""Carts: a signed-in buyer's cart (the same on every device) and guests' carts (by an opaque token), with a
price snapshot per line, totals (tax by shipping region, shipping), merging a guest cart at login, and the
hand-off to checkout (cart_for_checkout checks every line is still on sale and reprices lines past the price
hold; remove_bought takes out what a confirmed order bought, once per order).

- carts: reading and changing carts (versioned conditional writes, retried on a lost race);
- pricing: the pure rules (totals, tax, shipping, the price-hold window; docs/pricing.md);
- schemas, tables: request and response models (TotalsView is the one totals shape, orders use it too);
  the Carts table.
"""

from shop.cart.carts import (
    CartOwner,
    CheckoutCart,
    CheckoutLine,
    buyer_cart,
    cart_for_checkout,
    empty_cart,
    empty_guest_cart,
    get_cart,
    get_guest_cart,
    guest_cart,
    is_cart_token,
    merge_guest_cart,
    new_cart_token,
    pricing_policy,
    remove_bought,
    set_guest_line,
    set_line,
    user_cart,
)
from shop.cart.pricing import Totals

__all__ = [
    "CartOwner",
    "CheckoutCart",
    "CheckoutLine",
    "Totals",
    "buyer_cart",
    "cart_for_checkout",
    "empty_cart",
    "empty_guest_cart",
    "get_cart",
    "get_guest_cart",
    "guest_cart",
    "is_cart_token",
    "merge_guest_cart",
    "new_cart_token",
    "pricing_policy",
    "remove_bought",
    "set_guest_line",
    "set_line",
    "user_cart",
]
