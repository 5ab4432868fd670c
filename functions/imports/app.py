"""Bulk onboarding: POST /imports and GET /imports/{importId} (lambda_handler), and the upload's S3
notification that imports the file (upload_handler, deployed as ImportFunction)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import catalog, http
from shop.catalog.schemas import ImportStarted, ImportView, NewImport

logger = Logger()
app = http.create_app()


@app.post(
    "/imports",
    status_code=201,
    summary="Start a bulk import of items (sellers): returns a presigned S3 POST for the file",
    tags=["catalog"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(
        201,
        "The import (PENDING) and its upload form",
        [400, 401, 403, 422],
        headers={"Location": "/imports/{importId}"},
    ),
)
def start_import(request: Annotated[NewImport, Body()]) -> Response[ImportStarted]:
    started = catalog.start_import(http.authenticated_caller(app), request)
    return http.created(started, location=f"/imports/{started.import_id}")


@app.get(
    "/imports/<importId>",
    summary="An import's progress, counts and per-row errors (its seller only)",
    tags=["catalog"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The import report", [401, 404]),
)
def get_import(import_id: Annotated[str, Path(alias="importId")]) -> ImportView:
    return catalog.get_import(http.authenticated_caller(app), import_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


@logger.inject_lambda_context
@event_source(data_class=S3Event)
def upload_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    # An exception fails the invocation and S3's asynchronous delivery retries it; rows already created
    # are recognised on the retry (derived item ids), so a retry only finishes the job.
    reports = []
    for record in event.records:
        report = catalog.process_import_upload(
            record.s3.bucket.name, record.s3.get_object.key, record.s3.get_object.etag or "", record.s3.get_object.size
        )
        reports.append(None if report is None else report.model_dump(mode="json", by_alias=True, exclude={"errors"}))
    return {"imports": reports}
