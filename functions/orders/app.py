"""Orders API: the buyer's order history, one order, and cancelling it (shop.checkout.cancel_order).

GET /orders/{orderId} answers an ETag (a digest of the order as sent) and honours If-None-Match with 304
Not Modified, so a client polling an order for its next status moves no body until it changes.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import checkout, http, orders
from shop.orders.schemas import OrderPage, OrderStatus, OrderView

logger = Logger()
app = http.create_app()


@app.get("/orders", summary="The caller's orders, newest first", tags=["orders"], security=http.BEARER_AUTH,
         responses=http.documented_responses(200, "A page of orders", [401, 403, 422]))  # fmt: skip
def list_orders(
    status: Annotated[OrderStatus | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> OrderPage:
    return orders.list_orders(http.authenticated_caller(app), status=status, cursor=cursor, size=size)




@app.get("/orders/<orderId>", summary="One of the caller's orders (live or archived)", tags=["orders"],
         security=http.BEARER_AUTH,
         responses={**http.documented_responses(200, "The order", [401, 403, 404, 422],
                                                headers={"ETag": "The order's version, for If-None-Match"}),
                    304: http.NOT_MODIFIED})  # fmt: skip
def get_order(
    order_id: Annotated[str, Path(alias="orderId")],
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=1024)] = None,
) -> Response[OrderView]:
    # The ETag digests the order as sent: any change of status, history, payment or archival changes it.
    return http.conditional(orders.get_order(http.authenticated_caller(app), order_id), if_none_match)



@app.post(
    "/orders/<orderId>/cancel", summary="Cancel an order that has not shipped", tags=["orders"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The cancelled order", [401, 403, 404, 409, 503]),
)  # fmt: skip
def cancel_order(order_id: Annotated[str, Path(alias="orderId")]) -> OrderView:
    return checkout.cancel_order(http.authenticated_caller(app), order_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
