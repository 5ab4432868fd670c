"""The outbox of the Orders and Payments tables: stream records -> domain events, published once each;
and what the order-unwind consumer acts on: the TTL service deleting a payment-window hold (an expiry),
and an order moving into an early end (whose payment and stock must be undone, until done).

Each kind of row announces its own status changes (shop.events.RowEvents): orders here, reservations in
shop.inventory.events, payments in shop.payments.events; this module tells the kinds apart and publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.dynamodb import stream_image
from shop.events import DomainEvent, RowEvents, publish_all
from shop.idempotency import Once
from shop.inventory.events import RESERVATION_EVENTS
from shop.orders.tables import HOLD, ORDER
from shop.payments.events import PAYMENT_EVENTS

TTL_SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _order_data(new: dict[str, Any]) -> dict[str, Any]:
    return {"orderId": new["orderId"], "userId": new["userId"], "status": new.get("status"),
            "reason": new.get("reason"), "amount": new["amount"], "currency": new["currency"],
            "paymentStatus": new.get("paymentStatus"), "lines": new.get("lines", [])}  # fmt: skip


ORDER_EVENTS = RowEvents(
    source="shop.orders",
    types={"CREATED": "OrderCreated", "CONFIRMED": "OrderConfirmed", "EXPIRED": "OrderExpired",
           "CANCELLED": "OrderCancelled", "REJECTED": "OrderRejected", "PAYMENT_FAILED": "OrderPaymentFailed",
           "SHIPPED": "OrderShipped"},
    data=_order_data,
)  # fmt: skip
# The kind of row a record holds -> how that kind announces its status changes.
_KINDS: dict[str, RowEvents] = {"PAYMENT": PAYMENT_EVENTS, "RESERVATION": RESERVATION_EVENTS, "ORDER": ORDER_EVENTS}


def _moved(record: dict[str, Any]) -> dict[str, Any] | None:
    """The row's new image when the record changes its status (an insert with a status counts), else None."""
    if record.get("eventName") == "REMOVE":
        return None
    ddb = record.get("dynamodb", {})
    new, old = stream_image(ddb.get("NewImage")) or {}, stream_image(ddb.get("OldImage")) or {}
    return None if new.get("status") == old.get("status") else new


def events_for(record: dict[str, Any]) -> list[DomainEvent]:
    """The domain events one stream record stands for (none for most changes)."""
    new = _moved(record)
    if new is None:
        return []
    # Payments rows have no sort key; the Orders table's rows say their kind in `sk` (HOLD has no status).
    row_kind = "PAYMENT" if "paymentId" in new and "sk" not in new else str(new.get("sk"))
    events = _KINDS.get(row_kind)
    event = None if events is None else events.event_for(str(record.get("eventID", "")), new)
    return [] if event is None else [event]


def expired_hold(record: dict[str, Any]) -> str | None:
    """The order id when the record is the TTL service deleting a payment-window hold, else None.

    Only DynamoDB's own TTL deletions count: a hold deleted by code (payment made, order ended) is not
    an expiry.
    """
    if record.get("eventName") != "REMOVE" or record.get("userIdentity") != TTL_SERVICE:
        return None
    keys = record.get("dynamodb", {}).get("Keys", {})
    if keys.get("sk", {}).get("S") != HOLD:
        return None
    order_id = keys.get("orderId", {}).get("S")
    return str(order_id) if order_id else None


ENDED_EARLY = ("CANCELLED", "EXPIRED", "REJECTED", "PAYMENT_FAILED")


@dataclass(frozen=True)
class EndedOrder:
    order_id: str
    status: str
    reason: str


def ended_early(record: dict[str, Any]) -> EndedOrder | None:
    """The order when the record is its move into an early end (cancelled, expired, rejected, unpaid), else
    None. A cancel or an expiry claims the order first and undoes what it held afterwards: this record is
    what lets a consumer finish that undo if the claimer died or failed half-way."""
    new = _moved(record) if record.get("eventName") == "MODIFY" else None
    if new is None or new.get("sk") != ORDER or new.get("status") not in ENDED_EARLY:
        return None
    return EndedOrder(str(new["orderId"]), str(new["status"]), str(new.get("reason") or ""))


def publish_once(found: list[DomainEvent], *, lambda_context: LambdaContext | None = None) -> list[DomainEvent]:
    """Publish the events whose ids were not published before; returns those it published.

    A stream redelivers records (retries, a replayed shard, a batch split after a partial failure): the
    event id derives from the record, and powertools idempotency on it keeps a redelivery off the bus,
    so consumers that cannot deduplicate see each event once. Given the invocation's context, a publisher
    cut off by its timeout leaves its in-progress record only until that timeout, so the stream's retry
    publishes the event instead of finding it "in progress" until the record's TTL (and never publishing).
    """
    return [event for event in found if _published_now(event, lambda_context)]


# The prefix keeps the name of the module this publisher used to live in: it is part of every stored key.
_PUBLISH_ONCE: Once[dict[str, Any]] = Once(key_prefix="order_events.publish", key_jmespath="id")


def _published_now(event: DomainEvent, lambda_context: LambdaContext | None) -> bool:
    """Publish the event unless its id was published before; True when this call published it."""
    fresh: list[bool] = []  # a repeat answers the stored result without publishing: tell them apart

    def publish() -> dict[str, Any]:
        fresh.append(True)
        publish_all([event])
        return {"published": True}

    _PUBLISH_ONCE.run(event.envelope(), publish, lambda_context=lambda_context)
    return bool(fresh)
