"""Order expiry: the TTL service deleting an order's payment-window hold (a REMOVE record of the Orders
stream with the service identity) expires the order, which undoes its payment and stock
(shop.checkout.expire_order). A hold deleted by code (the order was paid or ended) is no expiry.

Partial batch failures are reported (powertools BatchProcessor); expiring is idempotent, since every order
transition is conditional.
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


def _expire_record(record: DynamoDBRecord) -> None:
    order_id = orders.expired_hold(record.raw_event)
    if order_id:
        logger.info("hold expired", extra={"orderId": order_id, "expired": checkout.expire_order(order_id)})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_expire_record, processor=processor, context=context)
