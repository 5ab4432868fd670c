"""Catalog API: sellers list items (POST /items), anyone reads them (GET /items/{itemId})."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import catalog, http
from shop.catalog_schemas import ItemView, NewItem

logger = Logger()
app = http.create_app()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="Makes retries safe: the same key and body within the retention period return the first "
        "result instead of creating another item.",
    ),
]


@app.post(
    "/items",
    status_code=201,
    summary="List a new item (sellers)",
    tags=["catalog"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(
        201, "The item as listed", [400, 401, 403, 409, 422], headers={"Location": "/items/{itemId}"}
    ),
)
def create_item(item: Annotated[NewItem, Body()], idempotency_key: IdempotencyKey = None) -> Response[ItemView]:
    seller = http.authenticated_caller(app)
    created = catalog.create_item(seller, item, idempotency_key=idempotency_key, lambda_context=app.lambda_context)
    return http.created(created, location=f"/items/{created.item_id}")


@app.get(
    "/items/<itemId>",
    summary="An item with its variants and what is available now",
    tags=["catalog"],
    responses=http.documented_responses(200, "The item", [404]),
)
def get_item(item_id: Annotated[str, Path(alias="itemId")]) -> ItemView:
    return catalog.get_item(item_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
