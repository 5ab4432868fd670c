"""Stream consumers of the Orders and Payments tables.

- publish: the outbox publisher; committed changes become domain events on the shop bus.
- expire: the hold's TTL deletion (service identity) expires the order (shop.checkout.expire_order).
Both report partial batch failures (powertools BatchProcessor), and both are idempotent: event ids
derive from the stream record, and every order transition is conditional.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import checkout, orders

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _publish_record(record: DynamoDBRecord) -> None:
    published = orders.publish_once(orders.events_for(record.raw_event))
    if published:
        logger.info("published", extra={"types": [e.type for e in published], "ids": [e.id for e in published]})


def _expire_record(record: DynamoDBRecord) -> None:
    order_id = orders.expired_hold(record.raw_event)
    if order_id:
        logger.info("hold expired", extra={"orderId": order_id, "expired": checkout.expire_order(order_id)})


@logger.inject_lambda_context
def publish(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_publish_record, processor=processor, context=context)


@logger.inject_lambda_context
def expire(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_expire_record, processor=processor, context=context)
