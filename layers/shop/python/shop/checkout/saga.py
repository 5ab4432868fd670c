"""The checkout saga's steps, each next to its compensation, as the state machine
(statemachines/checkout.asl.json) calls them through SagaFunction (`action` names the step).

Each step sits next to its compensation (Medusa's complete-cart workflow), and every one is idempotent,
so the state machine may retry any of them:

    step                                 compensation
    reserve_inventory  (all lines, 1 tx)  release_inventory
    create_order       (CREATED + hold)   fail_order (PAYMENT_FAILED / EXPIRED / CANCELLED / REJECTED)
    process_payment    (charge once)      refund_payment (refund a capture, end a pending payment)
    await_confirmation (task token)       -
    confirm_order      (CONFIRMED + sale) -
    ship_order         (SHIPPED)          -

Errors are raised, never returned: their class names are what the state machine's Retry and Catch match.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from shop import cart, inventory, orders, payments
from shop.errors import OutOfStockError

logger = Logger(child=True)


# ---------------------------------------------------------------- saga steps and compensations
class OutOfStock(Exception):
    """Step error name for the state machine: the reservation failed for lack of stock."""


class OrderNoLongerPending(Exception):
    """Step error name: the order was cancelled or expired while the saga ran."""


def reserve_inventory(event: dict[str, Any]) -> dict[str, Any]:
    order = orders.load(event["orderId"])
    try:
        inventory.reserve(
            order.order_id, inventory.stock_lines(order.lines), only_while=orders.while_pending(order.order_id)
        )
    except OutOfStockError as error:
        raise OutOfStock(json.dumps(error.details)) from error
    except inventory.OrderNoLongerPendingError as error:
        raise OrderNoLongerPending(str(error)) from error
    return {"reserved": True}


def release_inventory(event: dict[str, Any]) -> dict[str, Any]:
    return {"reservation": inventory.release(event["orderId"])}


def create_order(event: dict[str, Any]) -> dict[str, Any]:
    try:
        orders.create(event["orderId"])
    except orders.OrderNoLongerPending as error:
        raise OrderNoLongerPending(str(error)) from error
    return {"status": "CREATED"}


def process_payment(event: dict[str, Any]) -> dict[str, Any]:
    order = orders.load(event["orderId"])
    if order.status != "CREATED":
        raise OrderNoLongerPending(order.status)
    charge = payments.charge(
        order_id=order.order_id, user_id=order.user_id, amount=int(order.amount), currency=order.currency,
        card_token=order.card_token, card_last4=order.card_last4,
    )  # fmt: skip
    return {"paymentId": charge.payment_id, "status": charge.status, "txnId": charge.txn_id}


def await_confirmation(event: dict[str, Any]) -> dict[str, Any]:
    payments.await_confirmation(event["orderId"], event["taskToken"])
    return {"waiting": True}


def refund_payment(event: dict[str, Any]) -> dict[str, Any]:
    ended_as = "CANCELLED" if _failure(event)[0] == "CANCELLED" else "EXPIRED"
    return {"payment": payments.void_or_refund(event["orderId"], ended_as=ended_as)}


def confirm_order(event: dict[str, Any]) -> dict[str, Any]:
    payment = payments.get_payment_row(payments.payment_id_for(event["orderId"]))
    if payment is None or payment.status != "CAPTURED":
        raise OrderNoLongerPending(f"payment is {None if payment is None else payment.status}")
    try:
        orders.confirm(event["orderId"], payment.provider_txn_id)
    except orders.OrderNoLongerPending as error:
        raise OrderNoLongerPending(str(error)) from error
    try:
        order = orders.load(event["orderId"])
        cart.clear_cart(order.user_id, order.cart_id, order_id=order.order_id)
    except Exception:  # the order stands; a cart left full is a nuisance the buyer can fix, not a failure
        logger.exception("could not empty the cart", extra={"orderId": event["orderId"]})
    return {"status": "CONFIRMED"}


def fail_order(event: dict[str, Any]) -> dict[str, Any]:
    status, reason = _failure(event)
    moved = orders.end(event["orderId"], status, reason)
    return {"status": status, "reason": reason, "moved": moved}


def ship_order(event: dict[str, Any]) -> dict[str, Any]:
    return {"shipped": orders.ship(event["orderId"])}


# error name of the failed step -> (order status, reason)
_OUTCOMES: dict[str, tuple[str, str]] = {
    "OutOfStock": ("REJECTED", "OUT_OF_STOCK"),
    "PaymentDeclined": ("PAYMENT_FAILED", "DECLINED"),
    "InsufficientFunds": ("PAYMENT_FAILED", "INSUFFICIENT_FUNDS"),
    "FraudRejected": ("PAYMENT_FAILED", "FRAUD_REJECTED"),
    "PaymentProviderUnavailable": ("PAYMENT_FAILED", "PROVIDER_UNAVAILABLE"),
    "States.Timeout": ("EXPIRED", "PAYMENT_WINDOW_ELAPSED"),
    "OrderExpired": ("EXPIRED", "PAYMENT_WINDOW_ELAPSED"),
    "PaymentVoided": ("EXPIRED", "PAYMENT_WINDOW_ELAPSED"),
    "OrderCancelled": ("CANCELLED", "CANCELLED_BY_BUYER"),
    "OrderNoLongerPending": ("CANCELLED", "ORDER_ENDED"),
}


def _failure(event: dict[str, Any]) -> tuple[str, str]:
    error = (event.get("error") or {}).get("Error", "")
    return _OUTCOMES.get(error, ("PAYMENT_FAILED", "SYSTEM_ERROR"))


STEPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "reserve_inventory": reserve_inventory, "release_inventory": release_inventory,
    "create_order": create_order, "fail_order": fail_order,
    "process_payment": process_payment, "refund_payment": refund_payment,
    "await_confirmation": await_confirmation,
    "confirm_order": confirm_order,
    "ship_order": ship_order,
}  # fmt: skip


def run_step(event: dict[str, Any]) -> dict[str, Any]:
    return STEPS[event["action"]](event)
