"""The Profiles table's outbox: a profile row that reaches DELETED (DELETE /me finished) becomes AccountDeleted
{"userId"} on the shop bus, published once (the same idempotent publisher as the orders outbox), so that the
other contexts erase the personal data they hold (wishlist, notifications, preferences)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.accounts.profiles import DELETED, PROFILE
from shop.dynamodb import stream_image
from shop.events import DomainEvent, RowEvents
from shop.orders.events import publish_once

ACCOUNT_DELETED = "AccountDeleted"
ACCOUNT_EVENTS = RowEvents(source="shop.accounts", types={DELETED: ACCOUNT_DELETED},
                           data=lambda new: {"userId": new["userId"]})  # fmt: skip


def account_events_for(record: dict[str, Any]) -> list[DomainEvent]:
    """The events one Profiles stream record stands for: AccountDeleted when a profile moves to DELETED."""
    if record.get("eventName") == "REMOVE":  # the tombstone's TTL deletion says nothing new
        return []
    ddb = record.get("dynamodb", {})
    new, old = stream_image(ddb.get("NewImage")) or {}, stream_image(ddb.get("OldImage")) or {}
    if new.get("sk") != PROFILE or new.get("status") == old.get("status"):
        return []
    event = ACCOUNT_EVENTS.event_for(str(record.get("eventID", "")), new)
    return [] if event is None else [event]


def publish_account_events(record: dict[str, Any], lambda_context: LambdaContext | None = None) -> list[DomainEvent]:
    return publish_once(account_events_for(record), lambda_context=lambda_context)
