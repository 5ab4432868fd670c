"""Order unwind: finishes what an order that ended early held, whoever ended it.

Two kinds of Orders stream records reach it (FilterCriteria in template.yaml):
- the TTL service deleting an order's payment-window hold (a REMOVE with the service identity): the order
  expires (shop.checkout.expire_order: claim EXPIRED, then the unwind). A hold deleted by code (the order
  was paid or ended) is no expiry.
- an order moving into an early end (CANCELLED, EXPIRED, REJECTED, PAYMENT_FAILED): the one unwind runs
  again (void or refund the payment, release the stock, close the order). A cancel or an expiry claims the
  order before it undoes anything, so if its undo failed or its worker died, this is what finishes it: a
  failed record is retried (partial batch failures, then the dead-letter queue), and every step of the
  unwind is idempotent, so finishing an unwind that already finished changes nothing.
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


def _unwind_record(record: DynamoDBRecord) -> None:
    expired = orders.expired_hold(record.raw_event)
    if expired:
        logger.info("hold expired", extra={"orderId": expired, "expired": checkout.expire_order(expired)})
        return
    ended = orders.ended_early(record.raw_event)
    if ended:
        checkout.unwind(ended.order_id, ended.status, ended.reason)
        logger.info("unwound", extra={"orderId": ended.order_id, "status": ended.status, "reason": ended.reason})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_unwind_record, processor=processor, context=context)
