"""From what happened to what users are told: each event or Inventory-stream record becomes notices, and each
notice goes to the channels its user takes it on (in-app and email), at most once per channel.

Order lifecycle events and wishlist price drops arrive from the shop bus (through the notifications queue),
restocks from the Inventory stream; AccountDeleted erases the user's wishlist, notifications and preferences.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import wishlist
from shop.catalog.tables import Item
from shop.dynamodb import find
from shop.notifications import email, inbox, preferences
from shop.notifications.notices import (
    Notice,
    deleted_account,
    order_notice,
    price_drop_notices,
    restock_notices,
    restock_of,
)

logger = Logger(child=True)


def deliver(notice: Notice, *, lambda_context: LambdaContext | None = None) -> None:
    """The notice in the user's inbox and by email, as their preferences allow; a repeat adds nothing."""
    wanted = preferences.get(notice.user_id)
    if preferences.wants(wanted, "inApp", notice.kind) and inbox.record(notice):
        logger.info("notified", extra={"kind": notice.kind, "causeId": notice.cause_id})
    if preferences.wants(wanted, "email", notice.kind):
        email.send_once(notice, lambda_context=lambda_context)


def on_event(envelope: dict[str, Any], *, lambda_context: LambdaContext | None = None) -> None:
    """One domain event from the bus (the envelope of shop.events)."""
    erased_user = deleted_account(envelope)
    if erased_user is not None:
        erase_account(erased_user)
        return
    order = order_notice(envelope)
    notices = [order] if order is not None else price_drop_notices(envelope, wishlist.wishlisted_by)
    for notice in notices:
        deliver(notice, lambda_context=lambda_context)


def on_inventory_record(record: dict[str, Any], *, lambda_context: LambdaContext | None = None) -> None:
    """One Inventory-stream record: a restock tells everyone watching the item."""
    restock = restock_of(record)
    if restock is None:
        return
    watchers = list(wishlist.wishlisted_by(restock.item_id))
    if not watchers:
        return
    row = find(Item, restock.item_id)
    item = None if row is None else {"name": row.name, "status": row.status, "price": int(row.price),
                                     "currency": row.currency}  # fmt: skip
    for notice in restock_notices(restock, item, watchers):
        deliver(notice, lambda_context=lambda_context)


def erase_account(user_id: str) -> None:
    """AccountDeleted: the user's wishlist, notifications and preferences go (idempotent)."""
    wishlist_rows = wishlist.erase(user_id)
    notification_rows = inbox.erase(user_id)
    logger.info("erased", extra={"wishlistRows": wishlist_rows, "notificationRows": notification_rows})
