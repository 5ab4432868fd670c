"""Order archiver: a finished order that DynamoDB's TTL service deleted goes to the S3 archive.

Only the TTL service's REMOVEs of ORDER rows reach it (FilterCriteria in template.yaml), and it checks
again (shop.orders.archive.archivable), so a row deleted by code is never archived. A failed record is
retried (partial batch failures; the mapping splits a failing batch in two, BisectBatchOnFunctionError)
and, after the retries, its batch's place on the stream goes to the failure queue, from which
`python -m infra replay-archive` re-delivers it here. Archiving is idempotent, so redelivery is safe.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.orders import archive

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _archive_record(record: DynamoDBRecord) -> None:
    order = archive.archivable(record.raw_event)
    if order is None:
        return
    key = archive.archive(order)
    logger.info("archived", extra={"orderId": order["orderId"], "key": key})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_archive_record, processor=processor, context=context)
