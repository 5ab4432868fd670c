"""Behaviour lake writer (the Firehose-like role): batches of bus events from the behaviour queue become
Parquet in the lake bucket (shop.recommendations.lake); the hourly schedule compacts the hours that hold
more than one object.

A batch is written whole or not at all as far as the queue is concerned: any failure fails the batch, the
queue redelivers it, and the rewrite lands on the same object names (named after the batch's event ids).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import aws
from shop.config import recommendation_settings, required
from shop.recommendations.lake import Lake

logger = Logger()


def lake() -> Lake:
    return Lake(aws.s3(), required(recommendation_settings().lake_bucket, "BEHAVIOUR_LAKE_BUCKET"))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("source") == "aws.events" or event.get("compact"):  # the hourly schedule
        compacted = lake().compact_all()
        logger.info("compacted", extra={"partitions": compacted})
        return {"compacted": compacted}
    # The queue holds EventBridge events as the rule delivers them; their detail is the shop's envelope.
    envelopes = [json.loads(record["body"])["detail"] for record in event.get("Records", [])]
    report = lake().write_batch(envelopes)
    logger.info("wrote batch", extra={"envelopes": report.envelopes, "rows": report.rows, "objects": report.objects})
    return {"rows": report.rows, "objects": report.objects}
