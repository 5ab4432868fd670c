"""Inventory API: sellers restock their own items (shop.catalog.restock checks the item is theirs) and
switch a hot variant's stock to shards (shop.inventory.shards)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import catalog, http
from shop.inventory.schemas import RestockRequest, StockView

logger = Logger()
app = http.create_app()


@app.post(
    "/items/<itemId>/stock", summary="Add stock to one of your items, or split it over stock shards (sellers)",
    tags=["inventory"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The variant's stock", [400, 401, 403, 404, 422]),
)  # fmt: skip
def restock(item_id: Annotated[str, Path(alias="itemId")], request: Annotated[RestockRequest, Body()]) -> StockView:
    return catalog.restock(http.authenticated_caller(app), item_id, request.variant_id, request.quantity,
                           request.shards)  # fmt: skip


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
