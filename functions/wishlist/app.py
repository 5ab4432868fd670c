"""Wishlist API: the caller's wishlist with current prices and stock; add and remove items (idempotent)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import events, http, wishlist
from shop.wishlist import WishlistChange, WishlistView

logger = Logger()
app = http.create_app()

ItemIdPath = Annotated[str, Path(alias="itemId", max_length=64)]


@app.get("/wishlist", summary="The caller's wishlist, newest first, with current price and stock",
         tags=["wishlist"], security=http.BEARER_AUTH,
         responses=http.documented_responses(200, "The wishlist", [401, 403]))  # fmt: skip
def get_wishlist() -> WishlistView:
    return wishlist.get(http.authenticated_caller(app))


@app.put("/wishlist/items/<itemId>", summary="Put an item on the wishlist (a repeat changes nothing)",
         tags=["wishlist"], security=http.BEARER_AUTH,
         responses=http.documented_responses(200, "The item is on the wishlist", [401, 403, 404, 422]))  # fmt: skip
def add_item(item_id: ItemIdPath) -> WishlistChange:
    caller = http.authenticated_caller(app)
    change = wishlist.add(caller, item_id)
    if change.changed:  # a new entry, sent off the critical path (shop.events.emit_behaviour)
        events.emit_behaviour(events.WISHLISTED, {"itemId": item_id}, user_id=caller.user_id)
    return change


@app.delete("/wishlist/items/<itemId>", summary="Take an item off the wishlist (a repeat changes nothing)",
            tags=["wishlist"], security=http.BEARER_AUTH,
            responses=http.documented_responses(200, "The item is not on the wishlist", [401, 403, 422]))  # fmt: skip
def remove_item(item_id: ItemIdPath) -> WishlistChange:
    return wishlist.remove(http.authenticated_caller(app), item_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
