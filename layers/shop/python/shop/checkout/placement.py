"""POST /checkout: the buyer's cart becomes a PENDING order and its saga starts (shop.checkout.saga).

The amount the buyer saw must be the server's total (else 409 AMOUNT_MISMATCH); a soft stock check turns
most of a sell-out away at the door (the reservation decides); the card is tokenized here and only the
token and its last four digits are kept. An Idempotency-Key is required: the same key and body answer the
same order, the same key with another body is refused.
"""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import aws, cart, inventory, orders, payments
from shop.checkout.schemas import CheckoutAccepted, CheckoutRequest
from shop.config import checkout_settings
from shop.errors import AmountMismatchError, IdempotencyKeyRequiredError, OutOfStockError, TooManyLinesError
from shop.idempotency import Once
from shop.identity import Caller
from shop.ids import new_id

logger = Logger(child=True)

_PLACE_ONCE: Once[CheckoutAccepted] = Once(
    key_prefix="checkout.place_order", key_jmespath="[userId, idempotencyKey]", payload_jmespath="body",
    output=CheckoutAccepted,
)  # fmt: skip


def place_order(
    caller: Caller,
    request: CheckoutRequest,
    *,
    idempotency_key: str | None,
    lambda_context: LambdaContext | None = None,
) -> CheckoutAccepted:
    """Accept the cart as an order and start its saga; the same key and body answer the same."""
    if not idempotency_key:
        raise IdempotencyKeyRequiredError()
    # The card number takes part in the payload hash (so another card is another request) but is never
    # stored: powertools keeps only the hash of the validated part.
    data = {"userId": caller.user_id, "idempotencyKey": idempotency_key,
            "body": request.model_dump(mode="json", by_alias=True)}  # fmt: skip
    return _PLACE_ONCE.run(data, lambda: _place(caller, request), lambda_context=lambda_context)


def _place(caller: Caller, request: CheckoutRequest) -> CheckoutAccepted:
    found = cart.cart_for_checkout(caller.user_id, request.cart_id)
    if len(found.lines) > inventory.MAX_LINES:
        raise TooManyLinesError(details={"maxLines": inventory.MAX_LINES, "lines": len(found.lines)})
    totals = {"subtotal": found.totals.subtotal, "tax": found.totals.tax, "shipping": found.totals.shipping,
              "total": found.totals.total}  # fmt: skip
    if request.amount != found.totals.total:
        raise AmountMismatchError(details={**totals, "currency": found.currency, "amount": request.amount})
    # A soft check that turns most of a sell-out away at the door; the reservation transaction decides.
    short = inventory.shortages(inventory.stock_lines(found.lines))
    if short:
        raise OutOfStockError(details=short[0])
    card = payments.provider().tokenize(request.payment_info.card_no)
    order_id = new_id(orders.ORDER_ID_PREFIX)
    orders.new_order(
        order_id=order_id, user_id=caller.user_id, cart_id=found.cart_id, amount=found.totals.total,
        currency=found.currency, lines=found.lines, totals=totals, card_token=card.token, card_last4=card.last4,
    )  # fmt: skip
    rules = checkout_settings()
    aws.stepfunctions().start_execution(
        stateMachineArn=rules.state_machine_arn, name=order_id,
        input=json.dumps({"orderId": order_id, "paymentWindowSeconds": rules.payment_window_seconds,
                          "fulfilmentDelaySeconds": rules.fulfilment_delay_seconds}),
    )  # fmt: skip
    logger.info("order accepted", extra={"orderId": order_id, "cardLast4": card.last4})
    return CheckoutAccepted(order_id=order_id, status="PENDING")
