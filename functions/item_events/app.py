"""Items stream -> ItemCreated / ItemUpdated / ItemDeactivated on the shop bus (the catalog's outbox).

Each record is published on its own (powertools BatchProcessor): a record that fails is reported and the
stream retries from it, and records already published are published again with the same event id, which
consumers deduplicate.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import catalog

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    # The raw record, not powertools' .new_image: see shop.dynamodb.stream_image (DynamoDB Local's empty maps).
    event = catalog.item_event_of(record.raw_event)
    if event is None:
        return
    catalog.publish_item_event(event)
    logger.debug("published", extra={"type": event.event_type, "eventId": event.event_id})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event, record_handler, processor, context)
