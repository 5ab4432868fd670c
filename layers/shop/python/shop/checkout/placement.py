"""POST /checkout: the buyer's cart becomes a PENDING order and its saga starts (shop.checkout.saga).

The amount the buyer saw must be the server's total (else 409 AMOUNT_MISMATCH); a soft stock check turns
most of a sell-out away at the door (the reservation decides); the card is tokenized here and only the
token and its last four digits are kept. An Idempotency-Key is required: the same key and body answer the
same order, the same key with another body is refused. The checks at the door (cart, amount, stock) run
before the key's record is taken: a refusal writes nothing, so it takes no record, unless the key already
has one (the retry of an accepted order, whose cart the saga has emptied since), which answers it.

Retries can only find the first attempt's work: the order id is derived from (buyer, Idempotency-Key)
(shop.checkout.keys), the order is written only if it does not exist, and the saga execution is named
after the order, so a retry after a failed StartExecution starts the one saga of the one order. An order
whose saga never started still has its payment-window hold, so it expires instead of living forever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import accounts, aws, cart, inventory, orders, payments
from shop.checkout import keys
from shop.checkout.schemas import CheckoutAccepted, CheckoutRequest
from shop.config import checkout_settings
from shop.errors import (
    AmountMismatchError,
    IdempotencyKeyRequiredError,
    OutOfStockError,
    ShopError,
    TooManyLinesError,
)
from shop.idempotency import Once
from shop.identity import Caller, require_buyer

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
    require_buyer(caller)
    if not idempotency_key:
        raise IdempotencyKeyRequiredError()
    data = {"userId": caller.user_id, "idempotencyKey": idempotency_key, "body": _fingerprinted(request)}
    # Checked before the idempotency record is taken: most of a sell-out is refused here, and a refusal writes
    # nothing, so it needs no record (taking one would cost a write and, once refused, a delete per buyer).
    # A request this key already placed (or is placing) is answered by its record as before: the cart it
    # emptied is no reason to refuse the retry of an accepted order.
    try:
        checked: _Checked | None = _checked(caller, request)
    except ShopError:
        if not _PLACE_ONCE.seen(data):
            raise
        checked = None
    return _PLACE_ONCE.run(
        data, lambda: _place(caller, request, idempotency_key, checked or _checked(caller, request)),
        lambda_context=lambda_context,
    )  # fmt: skip


def _fingerprinted(request: CheckoutRequest) -> dict[str, Any]:
    """The request as powertools may hash and keep it: the payment details only as keyed fingerprints, so
    another card is another request, yet the idempotency record says nothing about the card (a plain hash
    of a number whose last four digits are known is one of ~10^5 candidates)."""
    body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    payment = body.get("paymentInfo", {})
    for field in ("cardNo", "paymentToken"):
        if field in payment:
            payment[field] = keys.fingerprint(field, str(payment[field]))
    return body


@dataclass(frozen=True)
class _Checked:
    """What the order is made of, once the checks at the door passed."""

    cart: cart.CheckoutCart
    shipping: accounts.Shipping

    @property
    def totals(self) -> dict[str, int]:
        """The cart's totals as the order (and an AMOUNT_MISMATCH) states them."""
        totals = self.cart.totals
        return {"subtotal": totals.subtotal, "tax": totals.tax, "shipping": totals.shipping, "total": totals.total}


def _checked(caller: Caller, request: CheckoutRequest) -> _Checked:
    """The buyer's cart and shipping, or the client error that refuses this checkout at the door."""
    # The default address decides the tax region, as it did for the cart the buyer saw; the order keeps a copy.
    shipping = accounts.shipping_for(caller.user_id)
    found = cart.cart_for_checkout(caller.user_id, request.cart_id, region=shipping.region)
    if len(found.lines) > inventory.MAX_LINES:
        raise TooManyLinesError(details={"maxLines": inventory.MAX_LINES, "lines": len(found.lines)})
    checked = _Checked(found, shipping)
    if request.amount != found.totals.total:
        raise AmountMismatchError(details={**checked.totals, "currency": found.currency, "amount": request.amount})
    # A soft check that turns most of a sell-out away at the door; the reservation transaction decides. The
    # stock was read with the offers (cart_for_checkout): reading it again would cost a round trip per buyer.
    short = [line for line in inventory.merge_lines(inventory.stock_lines(found.lines))
             if found.available.get((line.item_id, line.variant_id), 0) < line.quantity]  # fmt: skip
    if short:
        first = short[0]
        available = found.available.get((first.item_id, first.variant_id), 0)
        raise OutOfStockError(details={"itemId": first.item_id, "variantId": first.variant_id,
                                       "requested": first.quantity, "available": available})  # fmt: skip
    return checked


def _place(caller: Caller, request: CheckoutRequest, idempotency_key: str, checked: _Checked) -> CheckoutAccepted:
    found, shipping, totals = checked.cart, checked.shipping, checked.totals
    card = payments.card_for(request.payment_info.card_no, request.payment_info.payment_token)
    order = orders.new_order(
        order_id=keys.order_id_for(caller.user_id, idempotency_key), user_id=caller.user_id,
        cart_id=found.cart_id, amount=found.totals.total, currency=found.currency, lines=found.lines,
        totals=totals, card_token=card.token, card_last4=card.last4, address=shipping.address,
    )  # fmt: skip
    _start_saga(order.order_id)
    logger.info("order accepted", extra={"orderId": order.order_id, "cardLast4": order.card_last4})
    return CheckoutAccepted(order_id=order.order_id, status=order.status)


def _start_saga(order_id: str) -> None:
    """Start the order's saga; an execution of that name that exists already is the one a previous attempt
    started (StartExecution with the same name and input answers it without a second execution)."""
    rules = checkout_settings()
    machine = aws.stepfunctions()
    try:
        machine.start_execution(
            stateMachineArn=rules.state_machine_arn, name=order_id,
            input=json.dumps({"orderId": order_id, "paymentWindowSeconds": rules.payment_window_seconds,
                              "fulfilmentDelaySeconds": rules.fulfilment_delay_seconds}),
        )  # fmt: skip
    except machine.exceptions.ExecutionAlreadyExists:
        logger.info("the saga was started before", extra={"orderId": order_id})
