"""Charges: one idempotent charge per order, its states, refunds and fraud rules.

States: PROCESSING -> CAPTURED | REQUIRES_CONFIRMATION | DECLINED | INSUFFICIENT_FUNDS | FRAUD_REJECTED;
REQUIRES_CONFIRMATION -> CAPTURED (the customer approved) | EXPIRED (window over, order cancelled);
CAPTURED -> REFUNDED. Every move is a conditional write from its allowed previous state, so the saga,
the expiry consumer and the customer can race safely. The payment id is derived from the order id: a
retried charge finds the same row and the provider sees the same idempotency key.

Failures the saga acts on are exceptions whose class names its Catch/Retry rules match by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import PutError, UpdateError

from shop import aws, clock
from shop.config import checkout_settings
from shop.dynamodb import condition_failed, find
from shop.errors import PaymentNotConfirmableError, PaymentNotFoundError
from shop.identity import Caller
from shop.payments.provider import LocalPaymentProvider, PaymentProvider, ProviderUnavailableError
from shop.payments.tables import PaymentRow

logger = Logger(child=True)


class PaymentDeclined(Exception):
    pass


class InsufficientFunds(Exception):
    pass


class FraudRejected(Exception):
    pass


class PaymentProviderUnavailable(Exception):
    """Transient: the saga retries the charge with backoff."""


class PaymentVoided(Exception):
    """The payment was ended (order expired or cancelled) while it was being charged."""


_FAILURE_TYPES: dict[str, type[Exception]] = {
    "DECLINED": PaymentDeclined, "INSUFFICIENT_FUNDS": InsufficientFunds, "FRAUD_REJECTED": FraudRejected,
}  # fmt: skip


@dataclass(frozen=True)
class Charge:
    payment_id: str
    status: str  # CAPTURED or REQUIRES_CONFIRMATION
    txn_id: str | None


@cache
def provider() -> PaymentProvider:
    return LocalPaymentProvider(test_hooks=checkout_settings().payment_test_hooks)


def payment_id_for(order_id: str) -> str:
    return "pay_" + order_id.split("_", 1)[-1]


def charge(*, order_id: str, user_id: str, amount: int, currency: str, card_token: str, card_last4: str,
           card_fingerprint: str | None = None) -> Charge:  # fmt: skip
    """Charge the order once, whatever the number of retries; raises the saga's failure types."""
    payment_id = payment_id_for(order_id)
    row = _start_attempt(
        payment_id, order_id=order_id, user_id=user_id, amount=amount, currency=currency, last4=card_last4
    )
    if row.status in ("CAPTURED", "REQUIRES_CONFIRMATION"):
        return Charge(payment_id, row.status, row.provider_txn_id)
    if row.status in _FAILURE_TYPES:
        raise _FAILURE_TYPES[row.status](row.failure_reason or row.status)
    if row.status != "PROCESSING":
        raise PaymentVoided(row.status)

    reason = _fraud_reason(row, card_fingerprint or f"local-{card_last4}")
    if reason:
        _finish(row, "FRAUD_REJECTED", failure_reason=reason)
        raise FraudRejected(reason)
    try:
        result = provider().authorize(
            payment_id=payment_id, token=card_token, amount=amount, currency=currency, attempt=int(row.attempts)
        )
    except ProviderUnavailableError as error:
        logger.warning("payment provider unavailable", extra={"paymentId": payment_id, "attempt": row.attempts})
        raise PaymentProviderUnavailable(str(error)) from error
    if result.outcome == "APPROVED":
        _finish(row, "CAPTURED", txn_id=result.txn_id)
        return Charge(payment_id, "CAPTURED", result.txn_id)
    if result.outcome == "REQUIRES_CONFIRMATION":
        _finish(row, "REQUIRES_CONFIRMATION", txn_id=result.txn_id)
        return Charge(payment_id, "REQUIRES_CONFIRMATION", result.txn_id)
    _finish(row, result.outcome, failure_reason=result.outcome)
    raise _FAILURE_TYPES[result.outcome](result.outcome)


def await_confirmation(order_id: str, task_token: str) -> None:
    """Park the saga's task token on the payment; if the customer already answered, answer the saga now."""
    payment_id = payment_id_for(order_id)
    try:
        PaymentRow(payment_id).update(
            actions=[PaymentRow.task_token.set(task_token), PaymentRow.updated_at.set(clock.now_iso())],
            condition=PaymentRow.status == "REQUIRES_CONFIRMATION",
        )
        return
    except UpdateError as error:
        if not condition_failed(error):
            raise
    row = get_payment_row(payment_id)
    if row is not None and row.status == "CAPTURED":
        aws.stepfunctions().send_task_success(taskToken=task_token, output=json.dumps({"status": "CAPTURED"}))
    else:
        aws.stepfunctions().send_task_failure(taskToken=task_token, error="PaymentVoided",
                                 cause=f"payment is {None if row is None else row.status}")  # fmt: skip


def confirm(caller: Caller, payment_id: str) -> PaymentRow:
    """The customer approves a payment that needed their confirmation; wakes the waiting saga."""
    row = get_payment_row(payment_id)
    if row is None or row.user_id != caller.user_id:
        raise PaymentNotFoundError(details={"paymentId": payment_id})
    if row.status == "CAPTURED":
        return row  # confirmed before: answer the same
    if row.status != "REQUIRES_CONFIRMATION":
        raise PaymentNotConfirmableError(details={"paymentId": payment_id, "status": row.status})
    provider().confirm(payment_id=payment_id, txn_id=row.provider_txn_id or "")
    try:
        row.update(
            actions=[PaymentRow.status.set("CAPTURED"), PaymentRow.updated_at.set(clock.now_iso())],
            condition=PaymentRow.status == "REQUIRES_CONFIRMATION",
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise
        current = get_payment_row(payment_id)
        if current is not None and current.status == "CAPTURED":
            return current
        raise PaymentNotConfirmableError(
            details={"paymentId": payment_id, "status": None if current is None else current.status}
        ) from error
    if row.task_token:
        _send_success(row.task_token)
    return row


def void_or_refund(order_id: str, *, ended_as: str = "EXPIRED") -> str | None:
    """Undo the order's payment, whatever it reached: refund a capture, end a pending one. Idempotent.

    Returns the payment's final status, None when there was never a payment. A saga parked on the
    payment is told (SendTaskFailure), so it compensates now instead of at its own timeout.
    """
    payment_id = payment_id_for(order_id)
    for _ in range(3):
        row = get_payment_row(payment_id)
        if row is None:
            return None
        if row.status == "CAPTURED":
            refund_id = provider().refund(
                payment_id=payment_id, txn_id=row.provider_txn_id or "", amount=int(row.amount)
            )
            if _move(row, "CAPTURED", "REFUNDED", [PaymentRow.refund_id.set(refund_id)]):
                logger.info("payment refunded", extra={"paymentId": payment_id})
                return "REFUNDED"
        elif row.status in ("PROCESSING", "REQUIRES_CONFIRMATION"):
            if _move(row, row.status, ended_as, []):
                if row.task_token:
                    _send_failure(row.task_token, "OrderExpired" if ended_as == "EXPIRED" else "OrderCancelled")
                return ended_as
        else:
            return str(row.status)
    raise RuntimeError(f"payment {payment_id} kept changing")


def get_payment_row(payment_id: str) -> PaymentRow | None:
    return find(PaymentRow, payment_id)


# ---------------------------------------------------------------- internals
def _start_attempt(
    payment_id: str, *, order_id: str, user_id: str, amount: int, currency: str, last4: str
) -> PaymentRow:
    now = clock.now_iso()
    row = PaymentRow(
        payment_id, order_id=order_id, user_id=user_id, amount=amount, currency=currency, status="PROCESSING",
        card_last4=last4, attempts=1, created_at=now, updated_at=now,
    )  # fmt: skip
    try:
        row.save(condition=PaymentRow.payment_id.does_not_exist())
        return row
    except PutError as error:
        if not condition_failed(error):
            raise
    existing = PaymentRow(payment_id)
    try:
        existing.update(actions=[PaymentRow.attempts.add(1), PaymentRow.updated_at.set(now)],
                        condition=PaymentRow.status == "PROCESSING")  # fmt: skip
        return existing
    except UpdateError as error:
        if not condition_failed(error):
            raise
    found = get_payment_row(payment_id)
    assert found is not None
    return found


def _fraud_reason(row: PaymentRow, fingerprint: str) -> str | None:
    rules = checkout_settings()
    if fingerprint in rules.fraud_blocked_fingerprints:
        return "CARD_BLOCKED"
    if int(row.amount) > rules.fraud_max_amount:
        return "AMOUNT_LIMIT"
    since = clock.iso(clock.now() - timedelta(seconds=rules.fraud_velocity_window_seconds))
    recent = PaymentRow.by_user.count(row.user_id, PaymentRow.created_at >= since)
    if recent > rules.fraud_velocity_limit:
        return "VELOCITY"
    return None


def _finish(row: PaymentRow, status: str, *, txn_id: str | None = None, failure_reason: str | None = None) -> None:
    actions: list[Any] = [PaymentRow.failure_reason.set(failure_reason)] if failure_reason else []
    if txn_id:
        actions.append(PaymentRow.provider_txn_id.set(txn_id))
    if not _move(row, "PROCESSING", status, actions):
        current = get_payment_row(row.payment_id)
        raise PaymentVoided(None if current is None else current.status)


def _move(row: PaymentRow, from_status: str, to_status: str, actions: list[Any]) -> bool:
    try:
        row.update(
            actions=[PaymentRow.status.set(to_status), PaymentRow.updated_at.set(clock.now_iso()), *actions],
            condition=PaymentRow.status == from_status,
        )
        return True
    except UpdateError as error:
        if not condition_failed(error):
            raise
        return False


def _send_success(token: str) -> None:
    try:
        aws.stepfunctions().send_task_success(taskToken=token, output=json.dumps({"status": "CAPTURED"}))
    except Exception:  # the task already ended (timed out, or answered): the saga decides from the order
        logger.info("task token no longer valid")


def _send_failure(token: str, error: str) -> None:
    try:
        aws.stepfunctions().send_task_failure(taskToken=token, error=error, cause=error)
    except Exception:
        logger.info("task token no longer valid")
