"""Payments API: the customer approves a payment that needs their confirmation."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import http, payments
from shop.payments.schemas import PaymentView

logger = Logger()
app = http.create_app()


@app.post(
    "/payments/<paymentId>/confirm", summary="Approve a payment awaiting confirmation", tags=["payments"],
    security=http.BEARER_AUTH, responses=http.documented_responses(200, "The payment", [401, 403, 404, 409, 503]),
)  # fmt: skip
def confirm_payment(payment_id: Annotated[str, Path(alias="paymentId")]) -> PaymentView:
    row = payments.confirm(http.authenticated_caller(app), payment_id)
    return PaymentView(payment_id=row.payment_id, order_id=row.order_id, status=row.status, amount=int(row.amount),
                       currency=row.currency)  # fmt: skip


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
