"""Charges: one idempotent charge per order, its states, voids, refunds and fraud rules.

States (every move one conditional write from the states allowed before it, ALLOWED_FROM):

    CHARGING ──authorize──> CAPTURED | REQUIRES_CONFIRMATION | DECLINED | INSUFFICIENT_FUNDS
    CHARGING ──fraud rules──> FRAUD_REJECTED
    REQUIRES_CONFIRMATION ──> CONFIRMING ──confirm──> CAPTURED
    CHARGING | REQUIRES_CONFIRMATION | CONFIRMING ──> VOIDING ──void──> CANCELLED | EXPIRED
    CAPTURED ──> REFUNDING ──refund──> REFUNDED
    CAPTURED ──> CANCELLED | REFUNDED   (the reconciler only: the provider says the money is gone)

The intermediate state (CHARGING, CONFIRMING, VOIDING, REFUNDING) is written BEFORE the provider is
called, so a worker that dies in between leaves a trace: whoever finds it (a retry, the other party of a
race, the reconciler) repeats the provider call with the same idempotency key, and the provider answers
the same. Voids and refunds always go through the provider (`void:<paymentId>`, `refund:<paymentId>`).

A cancel or an expiry racing a charge: the void moves CHARGING -> VOIDING and voids at the provider. If the
authorize reached the provider first, the void releases it; if the void came first, the provider keeps a
VOIDED entry and the late authorize answers VOIDED. Either way the charge's write to CAPTURED then fails
and no money is held; a charge that finds a void half done finishes it itself.

The payment id is derived from the order id: a retried charge finds the same row and the provider sees the
same idempotency key. Failures the saga acts on are exceptions whose class names its Catch/Retry rules
match by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import PutError, UpdateError

from shop import aws, clock
from shop.config import checkout_settings
from shop.dynamodb import ConditionCheck, condition_failed, find
from shop.errors import PaymentNotConfirmableError, PaymentNotFoundError, PaymentProviderUnavailableError
from shop.identity import Caller, require_buyer
from shop.payments.provider import LocalPaymentProvider, PaymentProvider, ProviderPayment, ProviderUnavailableError
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

# PROCESSING is CHARGING's former name: rows written before the rename are charged and voided the same way.
CHARGING = ("CHARGING", "PROCESSING")
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "CAPTURED": (*CHARGING, "CONFIRMING"),
    "REQUIRES_CONFIRMATION": CHARGING,
    "DECLINED": CHARGING,
    "INSUFFICIENT_FUNDS": CHARGING,
    "FRAUD_REJECTED": CHARGING,
    "CONFIRMING": ("REQUIRES_CONFIRMATION",),
    "VOIDING": (*CHARGING, "REQUIRES_CONFIRMATION", "CONFIRMING"),
    "CANCELLED": ("VOIDING",),
    "EXPIRED": ("VOIDING",),
    "REFUNDING": ("CAPTURED",),
    "REFUNDED": ("REFUNDING",),
}
INTERMEDIATE = frozenset({*CHARGING, "CONFIRMING", "VOIDING", "REFUNDING"})
ENDED_AS = ("CANCELLED", "EXPIRED")
_STATUS_OF_OUTCOME = {"APPROVED": "CAPTURED", "REQUIRES_CONFIRMATION": "REQUIRES_CONFIRMATION",
                      "DECLINED": "DECLINED", "INSUFFICIENT_FUNDS": "INSUFFICIENT_FUNDS"}  # fmt: skip


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
    if row.status not in CHARGING:
        return _charged_before(row)

    reason = _fraud_reason(row, card_fingerprint or f"local-{card_last4}")
    if reason:
        if not _move(row, "FRAUD_REJECTED", [PaymentRow.failure_reason.set(reason)]):
            return _charged_before(_reload(row))
        raise FraudRejected(reason)
    try:
        result = provider().authorize(
            payment_id=payment_id, token=card_token, amount=amount, currency=currency, attempt=int(row.attempts)
        )
    except ProviderUnavailableError as error:
        logger.warning("payment provider unavailable", extra={"paymentId": payment_id, "attempt": row.attempts})
        raise PaymentProviderUnavailable(str(error)) from error
    status = _STATUS_OF_OUTCOME.get(result.outcome)
    if status is None:  # VOIDED or REFUNDED: the payment was ended at the provider before this authorize
        if _move(row, "VOIDING", [PaymentRow.ends_as.set(_ended_as(result.void_reason))]):
            _finish_void(row)
        return _charged_before(_reload(row))
    actions: list[Any] = [PaymentRow.provider_txn_id.set(result.txn_id)]
    if status in _FAILURE_TYPES:
        actions.append(PaymentRow.failure_reason.set(status))
    if not _move(row, status, actions, from_states=CHARGING):
        # Ended (or charged by a concurrent retry) meanwhile: answer from the row as it is now; a void it
        # finds half done is finished here, so the provider's authorization never outlives the payment.
        return _charged_before(_reload(row))
    return _charged_before(row)


def await_confirmation(order_id: str, task_token: str) -> None:
    """Park the saga's task token on the payment; if the customer already answered, answer the saga now."""
    payment_id = payment_id_for(order_id)
    try:
        PaymentRow(payment_id).update(
            actions=[PaymentRow.task_token.set(task_token), PaymentRow.updated_at.set(clock.now_iso())],
            condition=PaymentRow.status.is_in("REQUIRES_CONFIRMATION", "CONFIRMING"),
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
    require_buyer(caller)
    row = get_payment_row(payment_id)
    if row is None or row.user_id != caller.user_id:
        raise PaymentNotFoundError(details={"paymentId": payment_id})
    if row.status == "CAPTURED":
        return row  # confirmed before: answer the same
    if row.status == "REQUIRES_CONFIRMATION" and not _move(row, "CONFIRMING", []):
        row = _reload(row)
        if row.status == "CAPTURED":
            return row
    if row.status != "CONFIRMING":  # a confirm left half done by a dead worker is resumed, anything else is 409
        raise PaymentNotConfirmableError(details={"paymentId": payment_id, "status": row.status})
    _finish_confirm(row)
    if row.status != "CAPTURED":
        raise PaymentNotConfirmableError(details={"paymentId": payment_id, "status": row.status})
    return row


def void_or_refund(order_id: str, *, ended_as: str = "EXPIRED") -> str | None:
    """Undo the order's payment, whatever it reached, through the provider: refund a capture, void a
    pending one (it ends `ended_as`: CANCELLED or EXPIRED). Idempotent; resumes a void or refund a dead
    worker left half done.

    Returns the payment's final status, None when there was never a payment (the provider is still told,
    so a charge that starts after this finds the payment voided and takes nothing). A saga parked on the
    payment is told (SendTaskFailure), so it compensates now instead of at its own timeout.
    """
    payment_id = payment_id_for(order_id)
    for _ in range(5):
        row = get_payment_row(payment_id)
        if row is None:
            _provider_call(lambda: provider().void(payment_id=payment_id, idempotency_key=f"void:{payment_id}",
                                                   reason=ended_as))  # fmt: skip
            if get_payment_row(payment_id) is None:
                return None
            continue  # a charge started meanwhile: undo it like any other
        if row.status == "VOIDING" or (
            row.status in ALLOWED_FROM["VOIDING"] and _move(row, "VOIDING", [PaymentRow.ends_as.set(ended_as)])
        ):
            return _finish_void(row)
        if row.status == "REFUNDING" or (row.status == "CAPTURED" and _move(row, "REFUNDING", [])):
            return _finish_refund(row)
        if row.status not in INTERMEDIATE and row.status != "CAPTURED":
            return str(row.status)  # ended before: REFUNDED, CANCELLED, EXPIRED or a failed charge
    raise RuntimeError(f"payment {payment_id} kept changing")


def get_payment_row(payment_id: str) -> PaymentRow | None:
    return find(PaymentRow, payment_id)


def captured(order_id: str) -> ConditionCheck:
    """The condition "the order's payment is CAPTURED", checked in the transaction that confirms the order
    (instead of a read before it: the answer is the same, and a refund racing it cannot slip in between)."""
    return ConditionCheck(PaymentRow, payment_id_for(order_id), None, PaymentRow.status == "CAPTURED")


# ---------------------------------------------------------------- the provider calls after an intermediate state
def _finish_void(row: PaymentRow) -> str:
    """VOIDING -> (provider.void) -> CANCELLED | EXPIRED; tells a saga parked on the payment."""
    ended = _ended_as(row.ends_as)
    _provider_call(lambda: provider().void(payment_id=row.payment_id, idempotency_key=f"void:{row.payment_id}",
                                           reason=ended))  # fmt: skip
    if _move(row, ended, [], from_states=("VOIDING",)):
        logger.info("payment voided", extra={"paymentId": row.payment_id, "status": ended})
        if row.task_token:
            _send_failure(row.task_token, "OrderExpired" if ended == "EXPIRED" else "OrderCancelled")
        return ended
    return str(_reload(row).status)


def _finish_refund(row: PaymentRow) -> str:
    """REFUNDING -> (provider.refund) -> REFUNDED."""
    refunded = _provider_call(lambda: provider().refund(
        payment_id=row.payment_id, idempotency_key=f"refund:{row.payment_id}", amount=int(row.amount)
    ))  # fmt: skip
    actions = [PaymentRow.refund_id.set(refunded.refund_id)] if refunded.refund_id else []
    if _move(row, "REFUNDED", actions, from_states=("REFUNDING",)):
        logger.info("payment refunded", extra={"paymentId": row.payment_id})
        return "REFUNDED"
    return str(_reload(row).status)


def _finish_confirm(row: PaymentRow) -> None:
    """CONFIRMING -> (provider.confirm) -> CAPTURED, and the waiting saga woken; `row` is left as it is now."""
    confirmed = _provider_call(lambda: provider().confirm(
        payment_id=row.payment_id, idempotency_key=f"confirm:{row.payment_id}"
    ))  # fmt: skip
    if confirmed.status == "CAPTURED" and _move(row, "CAPTURED", [], from_states=("CONFIRMING",)):
        # the write answered the row as stored, so a token parked while we were confirming is seen here
        if row.task_token:
            _send_success(row.task_token)
        return
    fresh = _reload(row)
    row.status, row.task_token = fresh.status, fresh.task_token


def _provider_call(call: Callable[[], ProviderPayment]) -> ProviderPayment:
    try:
        result = call()
    except ProviderUnavailableError as error:
        # The intermediate state stays: a retry (or the reconciler) repeats the call with the same key.
        raise PaymentProviderUnavailableError(details={"reason": str(error)}) from error
    return result


# ---------------------------------------------------------------- internals
def _charged_before(row: PaymentRow) -> Charge:
    """What charge answers for a payment past CHARGING (a retry, or another party moved it)."""
    if row.status == "CAPTURED":
        return Charge(row.payment_id, "CAPTURED", row.provider_txn_id)
    if row.status in ("REQUIRES_CONFIRMATION", "CONFIRMING"):
        return Charge(row.payment_id, "REQUIRES_CONFIRMATION", row.provider_txn_id)
    if row.status in _FAILURE_TYPES:
        raise _FAILURE_TYPES[row.status](row.failure_reason or row.status)
    if row.status == "VOIDING":
        _finish_void(row)  # a void left half done: finish it, so no authorization outlives the payment
    raise PaymentVoided(str(_reload(row).status))


def _start_attempt(
    payment_id: str, *, order_id: str, user_id: str, amount: int, currency: str, last4: str
) -> PaymentRow:
    now = clock.now_iso()
    row = PaymentRow(
        payment_id, order_id=order_id, user_id=user_id, amount=amount, currency=currency, status="CHARGING",
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
                        condition=PaymentRow.status.is_in(*CHARGING))  # fmt: skip
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


def _ended_as(reason: str | None) -> str:
    return reason if reason in ENDED_AS else "EXPIRED"


def _move(row: PaymentRow, to_status: str, actions: list[Any], *, from_states: tuple[str, ...] | None = None) -> bool:
    """One conditional move from the states allowed before `to_status` (or the narrower `from_states`); on
    success `row` holds the stored row (the update answers ALL_NEW). False if the row was elsewhere."""
    allowed = from_states or ALLOWED_FROM[to_status]
    try:
        row.update(
            actions=[PaymentRow.status.set(to_status), PaymentRow.updated_at.set(clock.now_iso()), *actions],
            condition=PaymentRow.status.is_in(*allowed),
        )
        return True
    except UpdateError as error:
        if not condition_failed(error):
            raise
        return False


def _reload(row: PaymentRow) -> PaymentRow:
    found = get_payment_row(row.payment_id)
    assert found is not None  # payment rows are never deleted
    return found


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
