"""Domain events: the envelope {id, type, version, occurredAt, source, data} on the shop's bus.

Events are published from table streams (the outbox): a change is committed first, and a stream
consumer turns the committed change into its event. Event ids are derived from what caused them (a
stream record's eventID, an item version), so a redelivery publishes the same id and consumers drop it.
The bus is the stack's EVENT_BUS_NAME (Globals), which every function has.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shop import aws, clock
from shop.config import event_bus_name

VERSION = 1
_NAMESPACE = uuid.UUID("6f1f8c9e-52a4-4d3c-9b6e-1d2f3a4b5c6d")


@dataclass(frozen=True)
class DomainEvent:
    id: str
    type: str
    occurred_at: str
    source: str
    data: dict[str, Any]
    version: int = VERSION

    def envelope(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "version": self.version, "occurredAt": self.occurred_at,
                "source": self.source, "data": self.data}  # fmt: skip


def event_id(cause: str, event_type: str) -> str:
    """Stable per (cause, event type): redelivery makes the same id, never a new event."""
    return str(uuid.uuid5(_NAMESPACE, f"{cause}:{event_type}"))


@dataclass(frozen=True)
class RowEvents:
    """How one kind of row announces its status changes from a table stream (the outbox): which event type
    each status stands for, the source, and the event's data taken from the row's new image."""

    source: str
    types: Mapping[str, str]  # the row's status -> event type (a status not listed announces nothing)
    data: Callable[[dict[str, Any]], dict[str, Any]]

    def event_for(self, cause: str, new: dict[str, Any]) -> DomainEvent | None:
        """The event of a row now in `new` (a decoded stream image), its id derived from `cause`."""
        event_type = self.types.get(str(new.get("status")))
        if not event_type:
            return None
        return DomainEvent(event_id(cause, event_type), event_type, str(new.get("updatedAt", "")), self.source,
                           self.data(new))  # fmt: skip


def publish(
    event_type: str, data: dict[str, Any], *, source: str, event_id: str | None = None, occurred_at: str | None = None
) -> dict[str, Any]:
    """Publish one event; returns its envelope."""
    event = DomainEvent(
        id=event_id or str(uuid.uuid4()), type=event_type, source=source, data=data,
        occurred_at=occurred_at or clock.now_iso(),
    )  # fmt: skip
    publish_all([event])
    return event.envelope()


def publish_all(events: Iterable[DomainEvent]) -> None:
    """PutEvents in batches of 10 (the API's limit); raises if any entry was refused, so a stream batch
    is retried (with the same ids)."""
    batch = list(events)
    bus = event_bus_name()
    for start in range(0, len(batch), 10):
        entries = [
            {"EventBusName": bus, "Source": e.source, "DetailType": e.type, "Detail": json.dumps(e.envelope())}
            for e in batch[start : start + 10]
        ]
        result = aws.events().put_events(Entries=entries)
        if result.get("FailedEntryCount"):
            raise RuntimeError(f"{result['FailedEntryCount']} events were refused")


# ---------------------------------------------------------------- behaviour events (shop.recommendations)
# What shoppers do, for the recommendations' data lake (docs/recommendations.md). Unlike the domain events
# above they are not from an outbox: a handler emits them as it answers. Their data carries
# `schemaVersion` (BEHAVIOUR_SCHEMA_VERSION), which the lake keeps per row, so the job can read old and new
# rows side by side when a field is added.
BEHAVIOUR_SOURCE = "shop.behaviour"
BEHAVIOUR_SCHEMA_VERSION = 1
ITEM_VIEWED = "ItemViewed"  # data: itemId, category
SEARCH_PERFORMED = "SearchPerformed"  # data: term, category, resultsShown (the item ids on the page)
ADDED_TO_CART = "AddedToCart"  # data: itemId, quantity
WISHLISTED = "Wishlisted"  # data: itemId
# A sign-in from a client that sent X-Visitor-Id: what that anonymous visitor did is the account's from now
# on, and the job reads it so (jobs/recommendations.py, clean). data: visitorId
VISITOR_IDENTIFIED = "VisitorIdentified"
# Purchases are not emitted by a handler: the lake derives one row per order line from OrderConfirmed,
# an outbox event (once per confirmed order, never lost), so a purchase is as durable as the order.
PURCHASED = "Purchased"  # data: itemId, quantity, orderId
BEHAVIOUR_EVENTS = (ITEM_VIEWED, SEARCH_PERFORMED, ADDED_TO_CART, WISHLISTED, VISITOR_IDENTIFIED)

_behaviour_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="behaviour")
_log = logging.getLogger(__name__)


def emit_behaviour(event_type: str, data: dict[str, Any], *, user_id: str | None) -> Future[None]:
    """Publish a behaviour event off the request's critical path: the PutEvents call runs on a background
    thread and the handler answers without waiting for it. A failed or never-run call (the Lambda
    environment frozen after the answer and then recycled) loses that event, and only that event: losing a
    view, a search or a cart add skews the statistics by one and is accepted; purchases, which must not be
    lost, never come through here (PURCHASED above)."""
    if event_type not in BEHAVIOUR_EVENTS:
        raise ValueError(f"not a behaviour event: {event_type}")
    event = DomainEvent(
        id=str(uuid.uuid4()), type=event_type, occurred_at=clock.now_iso(), source=BEHAVIOUR_SOURCE,
        data={"schemaVersion": BEHAVIOUR_SCHEMA_VERSION, "userId": user_id, **data},
    )  # fmt: skip
    return _behaviour_sender.submit(_send_behaviour, event)


def _send_behaviour(event: DomainEvent) -> None:
    try:
        publish_all([event])
    except Exception:  # a lost behaviour event is accepted (emit_behaviour), never an error
        _log.warning("behaviour event %s (%s) was not published", event.id, event.type, exc_info=True)
