"""Makes notifications: shop-bus events from the notifications queue (order lifecycle, item price changes,
AccountDeleted) and Inventory-stream records (restocks) become notices, recorded and emailed once each.

Both sources are read record by record (powertools BatchProcessor): a record that fails is reported and
retried on its own (the queue redelivers it after its visibility timeout and moves it to the dead-letter
queue after maxReceiveCount; the stream retries, then sends it to the on-failure destination), and what was
done for it already is not done again (shop.notifications).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import notifications

logger = Logger()
queue_records = BatchProcessor(event_type=EventType.SQS)
stream_records = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _bus_event(record: SQSRecord, lambda_context: LambdaContext) -> None:
    # The queue holds EventBridge events as the rule delivers them; their detail is the shop's envelope.
    notifications.on_event(json.loads(record.body)["detail"], lambda_context=lambda_context)


def _inventory_record(record: DynamoDBRecord, lambda_context: LambdaContext) -> None:
    # The raw record, not powertools' images: see shop.dynamodb.stream_image (DynamoDB Local's empty maps).
    notifications.on_inventory_record(record.raw_event, lambda_context=lambda_context)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records") or [{}]
    if records[0].get("eventSource") == "aws:dynamodb":
        return process_partial_response(event, _inventory_record, stream_records, context)
    return process_partial_response(event, _bus_event, queue_records, context)
