"""Bulk onboarding's API: POST /imports answers a presigned S3 POST for the file, GET /imports/{importId}
its progress and per-row report. The file itself is imported by ImportProcessorFunction
(functions/import_processor) when S3 says it arrived."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import accounts, catalog, http
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
    seller = http.authenticated_caller(app)
    accounts.require_verified_seller_email(seller, app.current_event.raw_event)
    started = catalog.start_import(seller, request)
    return http.created(started, location=f"/imports/{started.import_id}")


@app.get(
    "/imports/<importId>",
    summary="An import's progress, counts and per-row errors (its seller only)",
    tags=["catalog"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The import report", [401, 403, 404]),
)
def get_import(import_id: Annotated[str, Path(alias="importId")]) -> ImportView:
    return catalog.get_import(http.authenticated_caller(app), import_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
