"""Bulk onboarding's worker: S3 notifies this function of every file uploaded under imports/ in the imports
bucket (the form POST /imports handed out), and each row of the file becomes an item, or a row error in the
import's report.

S3 invokes asynchronously: an exception fails the invocation and Lambda retries it (twice, with the same
request id), then hands the event to the dead-letter queue. The first invocation claims the import with its
request id; a retry of it finishes the job (rows already created are recognised: their item ids derive from
the import and the row), while any other event for an import being processed or finished is logged and
skipped (shop.catalog.imports).
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
    reports = []
    for record in event.records:
        report = catalog.process_import_upload(
            record.s3.bucket.name, record.s3.get_object.key, record.s3.get_object.etag or "",
            record.s3.get_object.size, invocation_id=context.aws_request_id,
        )  # fmt: skip
        reports.append(None if report is None else report.model_dump(mode="json", by_alias=True, exclude={"errors"}))
    return {"imports": reports}
