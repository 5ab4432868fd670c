"""Media API: the owning seller asks to upload an image of an item (POST /items/{itemId}/images)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import catalog, http
from shop.catalog.schemas import ImageUploadView

logger = Logger()
app = http.create_app()


@app.post(
    "/items/<itemId>/images",
    status_code=201,
    summary="Start an image upload for your item (its seller)",
    description="Answers a presigned S3 POST form: send the fields, then a `Content-Type` field (image/jpeg, "
    "image/png or image/webp) and the file as `file`, as multipart/form-data. The image shows as PENDING "
    "in GET /items/{itemId} until it is processed, then READY with its renditions, or REJECTED with a reason.",
    tags=["media"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(201, "The image entry and its upload form", [401, 403, 404, 409]),
)
def add_image(item_id: Annotated[str, Path(alias="itemId")]) -> Response[ImageUploadView]:
    seller = http.authenticated_caller(app)
    upload = catalog.request_image_upload(seller, item_id)
    return http.created(upload)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
