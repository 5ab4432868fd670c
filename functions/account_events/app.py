"""The accounts outbox: a profile row that reaches DELETED (DELETE /me finished), read from the Profiles stream,
becomes AccountDeleted {userId} on the shop bus, published once per stream record (its id derives from the
record); other contexts erase their personal data of the user when they receive it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.accounts.events import publish_account_events

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _publish_record(record: DynamoDBRecord, lambda_context: LambdaContext) -> None:
    published = publish_account_events(record.raw_event, lambda_context=lambda_context)
    if published:
        logger.info("published", extra={"types": [e.type for e in published], "ids": [e.id for e in published]})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_publish_record, processor=processor, context=context)
