"""The orders outbox publishes each event once, and a publisher cut off mid-publish does not block the
event's publication until its idempotency record expires (issue 11, gap 3)."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from shop import orders
from shop.errors import RequestInProgressError
from shop.events import DomainEvent


class Invocation:
    """What powertools reads of a Lambda context: the time this invocation has left."""

    function_name = "OrderEventsFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:OrderEventsFunction"
    aws_request_id = "req-1"

    def __init__(self, remaining_ms: int) -> None:
        self.deadline = time.time() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


class WorkerDied(BaseException):
    """The worker process ending mid-publish (a timeout kills it): no `except Exception` runs."""


@pytest.fixture
def bus(tables: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shop bus, in moto."""
    boto3.client("events").create_event_bus(Name="shop")
    monkeypatch.setenv("EVENT_BUS_NAME", "shop")


def confirmed(order_id: str) -> DomainEvent:
    return DomainEvent(id=f"evt-{order_id}", type="OrderConfirmed", occurred_at="2026-11-29T00:00:00.000Z",
                       source="shop.orders", data={"orderId": order_id})  # fmt: skip


def die_mid_publish(event: DomainEvent, context: Invocation | None) -> None:
    import shop.orders.events as outbox

    real = outbox.publish_all

    def dying(_: Any) -> None:
        raise WorkerDied()

    outbox.publish_all = dying  # type: ignore[assignment]
    try:
        with pytest.raises(WorkerDied):
            orders.publish_once([event], lambda_context=context)  # type: ignore[arg-type]
    finally:
        outbox.publish_all = real


def test_an_event_is_published_once_however_often_its_record_comes(bus):
    event = confirmed("ord_1")
    assert orders.publish_once([event]) == [event]
    assert orders.publish_once([event]) == []  # the stream's redelivery
    assert orders.publish_once([confirmed("ord_2")]) == [confirmed("ord_2")]


def test_a_publisher_cut_off_by_its_timeout_lets_the_retry_publish(bus):
    event = confirmed("ord_3")
    die_mid_publish(event, Invocation(remaining_ms=200))
    time.sleep(0.3)  # the cut-off invocation's time is over: its in-progress mark expires with it
    assert orders.publish_once([event], lambda_context=Invocation(remaining_ms=5000)) == [event]  # type: ignore[arg-type]


def test_without_the_context_the_in_progress_mark_would_block_every_retry(bus):
    """What happened before: nothing said when the dead publisher's time was up."""
    event = confirmed("ord_4")
    die_mid_publish(event, None)
    time.sleep(0.3)
    with pytest.raises(RequestInProgressError):
        orders.publish_once([event])
