"""Orders: the order's life cycle (every move one conditional write from the statuses it may come from, so
the saga, the expiry and a cancelling buyer can race safely), the buyer's order history, and the outbox
of the Orders and Payments tables (stream records -> domain events, each published once).

The checkout context drives the life cycle: shop.checkout places orders, runs the saga's steps and ends
orders early (cancel, expiry) through its one unwind sequence; this context never imports it.
"""

from shop.orders.events import ENDED_EARLY, EndedOrder, ended_early, events_for, expired_hold, publish_once
from shop.orders.lifecycle import (
    ALLOWED_FROM,
    ORDER_ID_PREFIX,
    STATUSES,
    TERMINAL,
    OrderNoLongerPending,
    PaymentNotCaptured,
    close,
    confirm,
    create,
    created_with_reservation,
    get_order,
    list_orders,
    load,
    load_own,
    new_order,
    ship,
    status_of,
    transition,
    view,
    while_pending,
)

__all__ = [
    "ALLOWED_FROM",
    "ENDED_EARLY",
    "ORDER_ID_PREFIX",
    "STATUSES",
    "TERMINAL",
    "EndedOrder",
    "OrderNoLongerPending",
    "PaymentNotCaptured",
    "close",
    "confirm",
    "create",
    "created_with_reservation",
    "ended_early",
    "events_for",
    "expired_hold",
    "get_order",
    "list_orders",
    "load",
    "load_own",
    "new_order",
    "publish_once",
    "ship",
    "status_of",
    "transition",
    "view",
    "while_pending",
]
