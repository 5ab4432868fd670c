"""The checkout saga's steps, each next to its compensation, and the one way an order that ends early is
undone, whether the saga fails, the buyer cancels or the payment window's TTL expires.

The state machine (statemachines/checkout.asl.json) calls the steps through SagaFunction (`action` names
the step). Each step sits next to its compensation (Medusa's complete-cart workflow), and every one is
idempotent, so the state machine may retry any of them:

    step                                 compensation
    reserve_inventory  (all lines + the order PENDING -> CREATED, 1 tx)
                                          release_inventory, fail_order (PAYMENT_FAILED / EXPIRED /
                                          CANCELLED / REJECTED)
    process_payment    (charge once)      refund_payment (refund a capture, end a pending payment)
    await_confirmation (task token)       -
    confirm_order      (CONFIRMED + sale, the bought lines out of the cart) -
    ship_order         (SHIPPED)          -

Errors are raised, never returned: their class names are what the state machine's Retry and Catch match.
DynamoDB being busy or unavailable (a transaction conflict, throttling, a 5xx, no answer) is never read as
a refusal: run_step raises it as StoreBusy, which the state machine retries with backoff and jitter, and
each step, being idempotent, finds on its retry whatever the first attempt did. A throttled write raises
StoreThrottled (a StoreBusy): the steps that write stock rows, the hot partitions of a flash sale, retry it
longer than other busy errors (statemachines/checkout.asl.json, docs/checkout.md).

Round trips: each step uses what the state already says instead of reading it again (the buyer and the
reserved rows in `reservation`, ReserveInventory's answer; the charge in `payment`, ProcessPayment's);
without them (an execution started before they were passed) it reads.

The unwind, in this order everywhere: void or refund the payment (undo_payment) -> release or return the
stock (release_stock) -> close the order (close_order: status and reason, the payment's final status,
the hold deleted). The saga runs it as three tasks (RefundPayment -> ReleaseInventory -> FailOrder);
cancel_order and expire_order first claim the order with its conditional transition (so they race safely
with the saga: whoever moves the order first wins), then run the same three in one go (unwind).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from shop import cart, inventory, orders, payments
from shop.dynamodb import StoreBusy, busy_error, transient
from shop.errors import OrderNotCancellableError, OutOfStockError
from shop.identity import Caller
from shop.orders.schemas import OrderView

logger = Logger(child=True)


# ---------------------------------------------------------------- saga steps and compensations
class OutOfStock(Exception):
    """Step error name for the state machine: the reservation failed for lack of stock."""


class OrderNoLongerPending(Exception):
    """Step error name: the order was cancelled or expired while the saga ran."""


def reserve_inventory(event: dict[str, Any]) -> dict[str, Any]:
    """The order's stock and its move PENDING -> CREATED, one transaction. Answers the rows the units came
    from (ConfirmOrder sells them without reading the reservation back); none on a retry that finds the
    order reserved before."""
    order = orders.load(event["orderId"])
    try:
        reserved = inventory.reserve(
            order.order_id, inventory.stock_lines(order.lines),
            only_while=orders.created_with_reservation(order.order_id, order.user_id),
        )  # fmt: skip
    except OutOfStockError as error:
        raise OutOfStock(json.dumps(error.details)) from error
    except inventory.OrderNoLongerPendingError as error:
        raise OrderNoLongerPending(str(error)) from error
    return {"reserved": True, "userId": order.user_id,
            "rows": None if reserved is None else [x.to_json() for x in reserved]}  # fmt: skip


def release_inventory(event: dict[str, Any]) -> dict[str, Any]:
    return {"reservation": release_stock(event["orderId"])}


def create_order(event: dict[str, Any]) -> dict[str, Any]:
    """Kept for executions started before ReserveInventory moved the order to CREATED itself."""
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
    # The refund only asks whether the order was cancelled, which the error names: no read of the order.
    status, _ = _OUTCOMES.get(_error_name(event), ("PAYMENT_FAILED", ""))
    return {"payment": undo_payment(event["orderId"], status)}


def confirm_order(event: dict[str, Any]) -> dict[str, Any]:
    """CONFIRMED + the sale in one transaction that also checks the payment is CAPTURED; then the bought
    lines leave the cart. The order is read once (its buyer, cart and lines); the payment's provider
    transaction and the reserved rows come from the state when ProcessPayment captured it directly."""
    order = orders.load(event["orderId"])
    if order.status not in ("CONFIRMED", "SHIPPED"):  # else confirmed before: only the cart may be left
        charged = event.get("payment") or {}
        txn_id = charged.get("txnId") if charged.get("status") == "CAPTURED" else None
        if txn_id is None:  # confirmed by the customer after AwaitConfirmation, or an older execution's state
            payment = payments.get_payment_row(payments.payment_id_for(order.order_id))
            if payment is None or payment.status != "CAPTURED":
                raise OrderNoLongerPending(f"payment is {None if payment is None else payment.status}")
            txn_id = payment.provider_txn_id
        rows = (event.get("reservation") or {}).get("rows")
        reserved = None if rows is None else [inventory.ReservedUnits.from_json(x) for x in rows]
        try:
            orders.confirm(order.order_id, txn_id, owner=order.user_id, reserved=reserved)
        except orders.OrderNoLongerPending as error:
            raise OrderNoLongerPending(str(error)) from error
    try:
        # Only what this order bought: lines added while the payment awaited confirmation stay in the cart.
        bought = inventory.stock_lines(order.lines)
        cart.remove_bought(order.user_id, order.cart_id, order_id=order.order_id, lines=bought)
    except Exception:  # the order stands; a cart left full is a nuisance the buyer can fix, not a failure
        logger.exception("could not take the bought lines out of the cart", extra={"orderId": event["orderId"]})
    return {"status": "CONFIRMED"}


def fail_order(event: dict[str, Any]) -> dict[str, Any]:
    status, reason = _failure(event)
    moved = close_order(event["orderId"], status, reason)
    return {"status": status, "reason": reason, "moved": moved}


def ship_order(event: dict[str, Any]) -> dict[str, Any]:
    owner = (event.get("reservation") or {}).get("userId")  # ReserveInventory's answer, in the state
    return {"shipped": orders.ship(event["orderId"], owner=owner)}


# ---------------------------------------------------------------- the one unwind
CANCELLED, EXPIRED = "CANCELLED", "EXPIRED"
CANCELLED_BY_BUYER, PAYMENT_WINDOW_ELAPSED = "CANCELLED_BY_BUYER", "PAYMENT_WINDOW_ELAPSED"


def undo_payment(order_id: str, status: str) -> str | None:
    """1. Void or refund the order's payment, whatever it reached; a saga waiting on it is told at once.
    The payment ends CANCELLED for a cancelled order, EXPIRED otherwise. Returns its final status."""
    return payments.void_or_refund(order_id, ended_as=CANCELLED if status == CANCELLED else EXPIRED)


def release_stock(order_id: str) -> str | None:
    """2. Give the order's units back: reserved -> available, or sold -> available for a paid order."""
    return inventory.release(order_id)


def close_order(order_id: str, status: str, reason: str) -> bool:
    """3. The order ends in `status` with `reason`, its payment's final status recorded, its hold deleted."""
    return orders.close(order_id, status, reason)


def unwind(order_id: str, status: str, reason: str) -> bool:
    """Undo everything the order holds and close it, in the one order every path uses. Idempotent: a retry
    of an unwind that died half-way finishes it."""
    undo_payment(order_id, status)
    release_stock(order_id)
    return close_order(order_id, status, reason)


def cancel_order(caller: Caller, order_id: str) -> OrderView:
    """The buyer cancels an order that has not shipped: refund what was paid, release or return the stock.

    The order is claimed first (PENDING/CREATED/CONFIRMED -> CANCELLED, conditional), so a saga step or an
    expiry racing it either lost already or loses now; then the unwind. Cancelling again answers the
    cancelled order (and finishes an unwind a failure cut short); a shipped or otherwise ended order is 409.
    """
    order = orders.load_own(caller, order_id)
    claimed = order.status in orders.ALLOWED_FROM[CANCELLED] and orders.transition(
        order_id, CANCELLED, reason=CANCELLED_BY_BUYER
    )
    if order.status != CANCELLED and not claimed:
        current = orders.load(order_id).status
        if current != CANCELLED:
            raise OrderNotCancellableError(details={"orderId": order_id, "status": current})
    unwind(order_id, CANCELLED, CANCELLED_BY_BUYER)
    return orders.view(orders.load(order_id))


def expire_order(order_id: str) -> bool:
    """The payment window is over (the hold's TTL deleted it): expire the order and undo what it held.

    Only an order still waiting for payment expires: the claim (PENDING/CREATED -> EXPIRED, conditional)
    makes a repeated or late expiry, or one that loses to the saga's own timeout, change nothing.
    """
    if not orders.transition(order_id, EXPIRED, reason=PAYMENT_WINDOW_ELAPSED):
        return False
    unwind(order_id, EXPIRED, PAYMENT_WINDOW_ELAPSED)
    logger.info("order expired", extra={"orderId": order_id})
    return True


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


# Errors with no business meaning: the store stayed busy or throttled through every retry of the step.
_STORE_BUSY_ERRORS = frozenset({"StoreBusy", "ProvisionedThroughputExceededException", "ThrottlingException"})


def _failure(event: dict[str, Any]) -> tuple[str, str]:
    """(order status, reason) for the error the saga caught. An error no outcome names (the store busy
    through every retry: STORE_BUSY; a crashed or timed-out function: SYSTEM_ERROR) rejects an order still
    PENDING, as nothing was reserved or charged for it, and fails the payment of one that got further."""
    error = _error_name(event)
    if error in _OUTCOMES:
        return _OUTCOMES[error]
    reason = "STORE_BUSY" if error in _STORE_BUSY_ERRORS else "SYSTEM_ERROR"
    return ("REJECTED" if orders.status_of(event["orderId"]) == "PENDING" else "PAYMENT_FAILED"), reason


def _error_name(event: dict[str, Any]) -> str:
    return str((event.get("error") or {}).get("Error", ""))


STEPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "reserve_inventory": reserve_inventory, "release_inventory": release_inventory,
    "create_order": create_order, "fail_order": fail_order,
    "process_payment": process_payment, "refund_payment": refund_payment,
    "await_confirmation": await_confirmation,
    "confirm_order": confirm_order,
    "ship_order": ship_order,
}  # fmt: skip


def run_step(event: dict[str, Any]) -> dict[str, Any]:
    try:
        return STEPS[event["action"]](event)
    except Exception as error:
        if transient(error) and not isinstance(error, StoreBusy):
            logger.warning("DynamoDB busy or unavailable: the step will be retried",
                           extra={"action": event["action"], "error": repr(error)})  # fmt: skip
            raise busy_error(error)(f"{type(error).__name__}: {error}") from error
        raise
