"""The orders outbox: committed changes of the Orders and Payments tables, read from their streams, become
domain events on the shop bus (OrderCreated, PaymentCompleted, InventoryReserved, ...).

Partial batch failures are reported (powertools BatchProcessor), and publishing is idempotent: each event's
id derives from its stream record, and an id already published is not published again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import orders

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _publish_record(record: DynamoDBRecord, lambda_context: LambdaContext) -> None:
    # powertools' batch processor passes the invocation's context to a record handler that names it
    published = orders.publish_once(orders.events_for(record.raw_event), lambda_context=lambda_context)
    if published:
        logger.info("published", extra={"types": [e.type for e in published], "ids": [e.id for e in published]})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_publish_record, processor=processor, context=context)
