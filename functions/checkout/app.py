"""Checkout API: POST /checkout turns the buyer's cart into an order and starts its saga."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import checkout, http
from shop.checkout.schemas import CheckoutAccepted, CheckoutRequest

logger = Logger()
app = http.create_app()

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=http.IDEMPOTENCY_KEY_PATTERN,
           description="Required: the same key and body answer the same order instead of placing another."),
]  # fmt: skip


@app.post(
    "/checkout",
    status_code=202,
    summary="Place an order from the cart (buyers)",
    tags=["checkout"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(
        202,
        "The order is accepted; follow it at Location",
        [400, 401, 403, 404, 409, 422, 503],
        headers={"Location": "/orders/{orderId}"},
    ),
)
def place_order(
    request: Annotated[CheckoutRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Response[CheckoutAccepted]:
    buyer = http.authenticated_caller(app)
    accepted = checkout.place_order(buyer, request, idempotency_key=idempotency_key, lambda_context=app.lambda_context)
    return Response(
        status_code=202, content_type=content_types.APPLICATION_JSON, body=accepted,
        headers={"Location": f"/orders/{accepted.order_id}"},
    )  # fmt: skip


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
