"""Cart API: signed-in buyers' carts under /cart (JWT), guests' carts under /guest-cart (X-Cart-Token).

Two route sets because API Gateway verifies tokens only on routes behind the authorizer: /cart always has
a verified caller, /guest-cart never reads the Authorization header. POST /cart/merge folds a guest cart
into the buyer's after login.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import accounts, cart, events, http
from shop.cart.schemas import CART_TOKEN_PATTERN, CartView, GuestCartView, LineChange, MergeRequest

logger = Logger()
app = http.create_app()

RegionQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9-]{2,16}$",
        description="Shipping region whose tax applies (e.g. US-CA); defaults to the configured region. A signed-in "
        "buyer's default address decides instead: a region that disagrees with it is refused (422).",
    ),
]
CartTokenHeader = Annotated[
    str | None,
    Header(
        alias="X-Cart-Token",
        pattern=CART_TOKEN_PATTERN,
        description="The guest cart's token, as answered by the first PATCH /guest-cart.",
    ),
]


@app.get(
    "/cart",
    summary="The signed-in buyer's cart with totals",
    tags=["cart"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The cart", [401, 403, 422]),
)
def get_cart(region: RegionQuery = None) -> CartView:
    caller = http.authenticated_caller(app)
    return cart.get_cart(cart.buyer_cart(caller), region=_shipping_region(caller.user_id, region))


@app.patch(
    "/cart",
    summary="Set a line's quantity (0 removes it)",
    tags=["cart"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The cart after the change", [400, 401, 403, 404, 409, 422]),
)
def set_line(change: Annotated[LineChange, Body()], region: RegionQuery = None) -> CartView:
    caller = http.authenticated_caller(app)
    view = cart.set_line(cart.buyer_cart(caller), change, region=_shipping_region(caller.user_id, region))
    _added_to_cart(change, caller.user_id)
    return view


@app.delete(
    "/cart",
    summary="Empty the cart",
    tags=["cart"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The empty cart", [401, 403, 409, 422]),
)
def empty_cart(region: RegionQuery = None) -> CartView:
    caller = http.authenticated_caller(app)
    return cart.empty_cart(cart.buyer_cart(caller), region=_shipping_region(caller.user_id, region))


@app.post(
    "/cart/merge",
    summary="Fold a guest cart into the signed-in buyer's cart (after login)",
    tags=["cart"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The buyer's cart after the merge", [400, 401, 403, 409, 422]),
)
def merge_cart(request: Annotated[MergeRequest, Body()], region: RegionQuery = None) -> CartView:
    caller = http.authenticated_caller(app)
    return cart.merge_guest_cart(caller, request.cart_token, region=_shipping_region(caller.user_id, region))


def _shipping_region(user_id: str, region: str | None) -> str | None:
    """The buyer's default address decides the tax region (checkout prices by it too); else `region` does."""
    return accounts.shipping_for(user_id, region).region


@app.get(
    "/guest-cart",
    summary="A guest's cart by its token",
    tags=["cart"],
    responses=http.documented_responses(200, "The cart (empty, without id, when there is no token)", [422]),
)
def get_guest_cart(cart_token: CartTokenHeader = None, region: RegionQuery = None) -> GuestCartView:
    return cart.get_guest_cart(cart_token, region=region)


@app.patch(
    "/guest-cart",
    summary="Set a line of a guest's cart; answers the cart token to send back in X-Cart-Token",
    tags=["cart"],
    responses=http.documented_responses(200, "The cart after the change, with its token", [400, 404, 409, 422]),
)
def set_guest_line(
    change: Annotated[LineChange, Body()], cart_token: CartTokenHeader = None, region: RegionQuery = None
) -> GuestCartView:
    view = cart.set_guest_line(cart_token, change, region=region)
    _added_to_cart(change, http.visitor(app))
    return view


def _added_to_cart(change: LineChange, user_id: str | None) -> None:
    """A line set to a positive quantity is an add-to-cart behaviour event, sent off the critical path."""
    if change.quantity > 0:
        events.emit_behaviour(events.ADDED_TO_CART, {"itemId": change.item_id, "quantity": change.quantity},
                              user_id=user_id)  # fmt: skip


@app.delete(
    "/guest-cart",
    summary="Empty a guest's cart",
    tags=["cart"],
    responses=http.documented_responses(200, "The empty cart", [409, 422]),
)
def empty_guest_cart(cart_token: CartTokenHeader = None, region: RegionQuery = None) -> GuestCartView:
    return cart.empty_guest_cart(cart_token, region=region)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
