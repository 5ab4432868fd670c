"""Checkout: POST /checkout turns the buyer's cart into an order and starts the checkout saga, whose steps
(reserve inventory, create the order, charge, confirm, ship) each sit next to their compensation; and the
ways an order ends early: the saga's compensations, the buyer's cancel (cancel_order) and the payment
window's expiry (expire_order) all undo it with the one unwind sequence of checkout.saga.

checkout may use orders, payments, inventory and cart; none of them uses checkout.
"""

from shop.checkout.placement import place_order
from shop.checkout.saga import cancel_order, expire_order, run_step, unwind

__all__ = ["cancel_order", "expire_order", "place_order", "run_step", "unwind"]
