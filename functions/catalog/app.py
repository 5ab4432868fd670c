"""Catalog API: sellers list items (POST /items) and change their own (PATCH, deactivate, activate); anyone
reads them (GET /items/{itemId})."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import accounts, catalog, events, http
from shop.catalog.schemas import ItemChanges, ItemView, NewItem

logger = Logger()
app = http.create_app()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=http.IDEMPOTENCY_KEY_PATTERN,
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
    accounts.require_verified_seller_email(seller, app.current_event.raw_event)
    created = catalog.onboard_item(seller, item, idempotency_key=idempotency_key, lambda_context=app.lambda_context)
    return http.created(created, location=f"/items/{created.item_id}")


@app.get(
    "/items/<itemId>",
    summary="An item with its variants and what is available now",
    tags=["catalog"],
    responses=http.documented_responses(200, "The item", [404]),
)
def get_item(item_id: Annotated[str, Path(alias="itemId")]) -> ItemView:
    item = catalog.get_item(item_id)
    # Off the critical path (shop.events.emit_behaviour): the answer does not wait for the bus.
    events.emit_behaviour(events.ITEM_VIEWED, {"itemId": item.item_id, "category": item.category},
                          user_id=http.visitor(app))  # fmt: skip
    return item


@app.patch(
    "/items/<itemId>",
    summary="Change an item (its seller): only at the version last read",
    description="Send the item's current `version` in the body; a stale version answers 409 VERSION_CONFLICT. "
    "Fields sent replace the stored ones; stock changes go through inventory.",
    tags=["catalog"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The item as changed", [400, 401, 403, 404, 409, 422]),
)
def change_item(item_id: Annotated[str, Path(alias="itemId")], changes: Annotated[ItemChanges, Body()]) -> ItemView:
    return catalog.update_item(http.authenticated_caller(app), item_id, changes)


@app.post(
    "/items/<itemId>/deactivate",
    summary="Take an item off sale (its seller): hidden from search, still readable by id",
    tags=["catalog"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The item, INACTIVE", [401, 403, 404, 409]),
)
def deactivate_item(item_id: Annotated[str, Path(alias="itemId")]) -> ItemView:
    return catalog.set_status(http.authenticated_caller(app), item_id, catalog.INACTIVE)


@app.post(
    "/items/<itemId>/activate",
    summary="Put an item back on sale (its seller)",
    tags=["catalog"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The item, ACTIVE", [401, 403, 404, 409]),
)
def activate_item(item_id: Annotated[str, Path(alias="itemId")]) -> ItemView:
    return catalog.set_status(http.authenticated_caller(app), item_id, catalog.ACTIVE)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
