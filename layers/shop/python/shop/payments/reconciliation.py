"""The payment reconciler: our payment rows against the provider's records, every few minutes
(PaymentsReconcilerFunction), so no money stays held by a payment that ended and no payment stays half way.

It looks at payments last changed between `lookback_seconds` and `older_than_seconds` ago (younger ones
may still be in someone's hands; older ones were reconciled before) and settles each that is:

- stuck in an intermediate state (a worker died after writing it): VOIDING and REFUNDING are finished
  through the provider; CONFIRMING is finished while the order is live, voided otherwise; CHARGING takes
  the provider's answer while the order is live, and is voided once the order ended;
- ended on our side while the provider still holds the money (CANCELLED, EXPIRED, REFUNDED or a failed
  charge, but the provider says CAPTURED or REQUIRES_CONFIRMATION): voided or refunded at the provider;
- CAPTURED on our side while the provider voided or refunded it: our row takes the provider's truth;
- CAPTURED or awaiting confirmation for an order that ended (a compensation that never ran): refunded or
  voided.

Payments do not know orders (orders depend on payments): the caller says what an order's status is.
At volume this scan would become a sparse index of intermediate rows plus the provider's settlement report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aws_lambda_powertools import Logger

from shop import clock
from shop.errors import PaymentProviderUnavailableError
from shop.payments.charges import (
    ALLOWED_FROM,
    CHARGING,
    INTERMEDIATE,
    _ended_as,
    _finish_confirm,
    _finish_refund,
    _finish_void,
    _move,
    _provider_call,
    provider,
)
from shop.payments.provider import HOLDS_MONEY, ProviderPayment, ProviderUnavailableError
from shop.payments.tables import PaymentRow

logger = Logger(child=True)

LIVE_ORDER = frozenset({"PENDING", "CREATED", "CONFIRMED", "SHIPPED"})
ENDED_OURS = frozenset({"CANCELLED", "EXPIRED", "DECLINED", "INSUFFICIENT_FUNDS", "FRAUD_REJECTED"})
_OURS_FOR_THEIRS = {"CAPTURED": "CAPTURED", "REQUIRES_CONFIRMATION": "REQUIRES_CONFIRMATION",
                    "DECLINED": "DECLINED", "INSUFFICIENT_FUNDS": "INSUFFICIENT_FUNDS"}  # fmt: skip


@dataclass
class ReconciliationReport:
    checked: int = 0
    settled: dict[str, list[str]] = field(default_factory=dict)  # kind -> payment ids settled
    unsettled: dict[str, list[str]] = field(default_factory=dict)  # kind -> payment ids left for next time

    def counts(self) -> dict[str, int]:
        return {kind: len(ids) for kind, ids in self.settled.items()}

    def as_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "counts": self.counts(), "settled": self.settled,
                "unsettled": self.unsettled}  # fmt: skip


def reconcile(*, older_than_seconds: int, order_status: Callable[[str], str | None],
              lookback_seconds: int = 86_400) -> ReconciliationReport:  # fmt: skip
    """Settle every payment whose state is stuck or disagrees with the provider's; returns what was done.

    `order_status(order_id)` is the order's status (None when there is none). Idempotent: every settlement
    is a conditional move or an idempotent provider call, so it races safely with the saga, a cancel, an
    expiry and another reconciler.
    """
    now = clock.now()
    newest = clock.iso(now - timedelta(seconds=older_than_seconds))
    oldest = clock.iso(now - timedelta(seconds=lookback_seconds))
    report = ReconciliationReport()
    for row in PaymentRow.scan(filter_condition=PaymentRow.updated_at.between(oldest, newest)):
        report.checked += 1
        try:
            kind = _settle(row, order_status)
        except (ProviderUnavailableError, PaymentProviderUnavailableError):
            report.unsettled.setdefault("provider_unavailable", []).append(row.payment_id)
            continue
        if kind is None:
            continue
        if kind.startswith("left:"):
            report.unsettled.setdefault(kind.removeprefix("left:"), []).append(row.payment_id)
        else:
            report.settled.setdefault(kind, []).append(row.payment_id)
            logger.info("payment reconciled", extra={"paymentId": row.payment_id, "kind": kind})
    if report.settled or report.unsettled:
        logger.info("reconciliation", extra=report.as_dict())
    return report


def _settle(row: PaymentRow, order_status: Callable[[str], str | None]) -> str | None:
    """Settle one payment; the kind of what was wrong, "left:<kind>" when it must wait, None when in order."""
    theirs = provider().status(row.payment_id)
    order = order_status(row.order_id)
    live = order in LIVE_ORDER
    ends_as = "CANCELLED" if order == "CANCELLED" else "EXPIRED"
    if row.status in CHARGING:
        return _settle_charging(row, theirs, live=live, ends_as=ends_as)
    if row.status in INTERMEDIATE:
        return _settle_stuck(row, theirs, live=live, ends_as=ends_as)
    return _settle_disagreement(row, theirs, live=live, ends_as=ends_as)


def _settle_stuck(row: PaymentRow, theirs: ProviderPayment | None, *, live: bool, ends_as: str) -> str | None:
    """VOIDING, REFUNDING, CONFIRMING left by a dead worker: repeat the provider call with the same key."""
    kind = f"stuck_{row.status.lower()}"
    if row.status == "VOIDING":
        _finish_void(row)
    elif row.status == "REFUNDING":
        _finish_refund(row)
    elif live and theirs is not None and theirs.status in ("CAPTURED", "REQUIRES_CONFIRMATION"):
        _finish_confirm(row)
    else:  # CONFIRMING for an order that ended, or that the provider no longer holds
        return _void(row, ends_as, kind)
    return kind


def _settle_charging(row: PaymentRow, theirs: ProviderPayment | None, *, live: bool, ends_as: str) -> str | None:
    """CHARGING left by a dead worker: the provider's answer while the order is live, else a void."""
    if not live or (theirs is not None and theirs.status in ("VOIDED", "REFUNDED")):
        voided_as = _ended_as(theirs.void_reason) if live and theirs is not None else ends_as
        return _void(row, voided_as, "stuck_charging")
    if theirs is None:
        return "left:charging_not_at_provider"  # the saga retries it, or the order ends and voids it
    actions = [PaymentRow.provider_txn_id.set(theirs.txn_id)]
    if theirs.status in ("DECLINED", "INSUFFICIENT_FUNDS"):
        actions.append(PaymentRow.failure_reason.set(theirs.status))
    return "stuck_charging" if _move(row, _OURS_FOR_THEIRS[theirs.status], actions, from_states=CHARGING) else None


def _settle_disagreement(row: PaymentRow, theirs: ProviderPayment | None, *, live: bool, ends_as: str) -> str | None:
    """A payment past its intermediate states whose provider record, or whose order, says otherwise."""
    if row.status == "CAPTURED" and theirs is not None and theirs.status in ("VOIDED", "REFUNDED"):
        return _take_providers_truth(row, theirs, live)
    if row.status == "CAPTURED" and not live:
        if _move(row, "REFUNDING", []):
            _finish_refund(row)
        return "paid_for_ended_order"
    if row.status == "REQUIRES_CONFIRMATION" and not live:
        return _void(row, ends_as, "paid_for_ended_order")
    if theirs is not None and theirs.status in HOLDS_MONEY and (row.status in ENDED_OURS or row.status == "REFUNDED"):
        _release_at_provider(row, theirs)
        return "provider_holds_money"
    return None


def _void(row: PaymentRow, ends_as: str, kind: str) -> str | None:
    if not _move(row, "VOIDING", [PaymentRow.ends_as.set(ends_as)], from_states=ALLOWED_FROM["VOIDING"]):
        return None  # moved meanwhile: the next round looks again
    _finish_void(row)
    return kind


def _take_providers_truth(row: PaymentRow, theirs: ProviderPayment, live: bool) -> str | None:
    """Ours CAPTURED, the provider's voided or refunded: the money is gone, our row says so."""
    if theirs.status == "REFUNDED":
        moved = _move(row, "REFUNDED", [PaymentRow.refund_id.set(theirs.refund_id)] if theirs.refund_id else [],
                      from_states=("CAPTURED",))  # fmt: skip
    else:
        moved = _move(row, "CANCELLED", [PaymentRow.failure_reason.set("VOIDED_AT_PROVIDER")],
                      from_states=("CAPTURED",))  # fmt: skip
    if moved and live:
        # Payments cannot end an order; the row's change is published (PaymentFailed / PaymentRefunded).
        logger.error(
            "a live order's payment was undone at the provider",
            extra={"paymentId": row.payment_id, "orderId": row.order_id, "provider": theirs.status},
        )
    return "captured_but_provider_undid" if moved else None


def _release_at_provider(row: PaymentRow, theirs: ProviderPayment) -> None:
    """Ours ended, the provider still holds the money: void it, or refund it when ours says REFUNDED."""
    if row.status == "REFUNDED" and theirs.status == "CAPTURED":
        _provider_call(lambda: provider().refund(payment_id=row.payment_id, idempotency_key=f"refund:{row.payment_id}",
                                                 amount=int(row.amount)))  # fmt: skip
    else:
        _provider_call(lambda: provider().void(payment_id=row.payment_id, idempotency_key=f"void:{row.payment_id}",
                                               reason=_ended_as(row.status)))  # fmt: skip
    logger.warning("money released at the provider for an ended payment",
                   extra={"paymentId": row.payment_id, "ours": row.status, "provider": theirs.status})  # fmt: skip
