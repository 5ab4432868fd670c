"""The image pipeline: S3 notifies this function of every object created under uploads/ in the media bucket.

S3 invokes asynchronously; an exception makes Lambda retry the event (twice) and then hand it to the
dead-letter queue, which is why every step in shop.catalog.images is safe to repeat.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import catalog

logger = Logger()


@logger.inject_lambda_context
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    outcomes = {}
    for record in event.records:
        key = record.s3.get_object.key
        outcomes[key] = catalog.process_image_upload(record.s3.bucket.name, key)
    return {"processed": outcomes}
