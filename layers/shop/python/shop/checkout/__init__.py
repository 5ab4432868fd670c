"""Checkout: POST /checkout turns the buyer's cart into an order and starts the checkout saga, whose steps
(reserve inventory, create the order, charge, confirm, ship) each sit next to their compensation.

checkout may use orders, payments, inventory and cart; none of them uses checkout.
"""

from shop.checkout.placement import place_order
from shop.checkout.saga import STEPS, run_step

__all__ = ["STEPS", "place_order", "run_step"]
