"""Inventory: units per item variant, and what each order holds of them.

Checkout reserves an order's lines in one transaction (never more than is available, under any
concurrency), then sells them when the order is paid or releases them when it ends otherwise; each move
goes through the order's reservation record, so repeats change nothing. Sellers add stock through
shop.catalog.restock (it checks, in the same transaction, that the item is theirs). The reservation's
status changes become Inventory* events (inventory.events, published by the Orders outbox).
"""

from shop.inventory.stock import (
    COMMITTED,
    MAX_LINES,
    RELEASED,
    RESERVED,
    RETURNED,
    OrderNoLongerPendingError,
    ReservedUnits,
    Sale,
    StockLine,
    available_units,
    merge_lines,
    release,
    reservation_status,
    reserve,
    sale_from,
    sale_of,
    shortages,
    stock_lines,
)
from shop.inventory.tables import DEFAULT_VARIANT

__all__ = [
    "COMMITTED",
    "DEFAULT_VARIANT",
    "MAX_LINES",
    "RELEASED",
    "RESERVED",
    "RETURNED",
    "OrderNoLongerPendingError",
    "ReservedUnits",
    "Sale",
    "StockLine",
    "available_units",
    "merge_lines",
    "release",
    "reservation_status",
    "reserve",
    "sale_from",
    "sale_of",
    "shortages",
    "stock_lines",
]
