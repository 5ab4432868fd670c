"""Orders API: the buyer's order history, one order, and cancelling it (shop.checkout.cancel_order).

GET /orders/{orderId} answers an ETag (a digest of the order as sent) and honours If-None-Match with 304
Not Modified, so a client polling an order for its next status moves no body until it changes.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
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


class NotModified(Exception):
    """The client's copy is current: answered 304 by the handler below, outside the response validation
    (which checks a 200's body against OrderView; a 304 has none)."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


def not_modified(error: NotModified) -> Response[None]:
    return Response(status_code=304, headers={"ETag": error.etag})


app.exception_handler_manager.update_exception_handlers({NotModified: not_modified})


NOT_MODIFIED: OpenAPIResponse = {"description": "Unchanged since the ETag named in If-None-Match (no body)"}


@app.get("/orders/<orderId>", summary="One of the caller's orders (live or archived)", tags=["orders"],
         security=http.BEARER_AUTH,
         responses={**http.documented_responses(200, "The order", [401, 403, 404, 422],
                                                headers={"ETag": "The order's version, for If-None-Match"}),
                    304: NOT_MODIFIED})  # fmt: skip
def get_order(
    order_id: Annotated[str, Path(alias="orderId")],
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=1024)] = None,
) -> Response[OrderView]:
    order = orders.get_order(http.authenticated_caller(app), order_id)
    # A digest of the order's content: any change of status, history, payment or archival changes it.
    etag = f'"{hashlib.sha256(order.model_dump_json(by_alias=True).encode()).hexdigest()[:32]}"'
    if if_none_match is not None and _matches(if_none_match, etag):
        raise NotModified(etag)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=order, headers={"ETag": etag})


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names this ETag ("*" names any); the weak comparison of RFC 9110 13.1.2."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


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
