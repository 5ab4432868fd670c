"""Domain events: the envelope {id, type, version, occurredAt, source, data} on the shop's bus.

Events are published from table streams (the outbox): a change is committed first, and a stream
consumer turns the committed change into its event. Event ids are derived from what caused them (a
stream record's eventID, an item version), so a redelivery publishes the same id and consumers drop it.
The bus is the stack's EVENT_BUS_NAME (Globals), which every function has.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
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
