"""Search indexer: Items and Inventory stream records -> the search index, in batches.

Partial failures: a record that cannot be merged is reported (powertools BatchProcessor) and the stream
retries from it; the records merged before it are committed first, so nothing is lost or applied twice
(merging is idempotent, see shop.search.documents). A failing commit fails the whole batch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import search

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def indexer() -> search.Indexer:
    return search.Indexer(search.engine())


def record_handler(record: DynamoDBRecord) -> None:
    indexer().apply_record(record.raw_event)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    try:
        response = process_partial_response(event, record_handler, processor, context)
        written = indexer().flush()
    except Exception:
        indexer().discard()
        raise
    logger.info("indexed batch", extra={"records": len(event.get("Records", [])), "documents": written})
    return response
