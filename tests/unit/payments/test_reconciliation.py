"""The payment reconciler settles each kind of disagreement between our payment rows and the provider's
ledger (moto's DynamoDB; the order's status is given, as the reconciler's handler gives orders.status_of)."""

from __future__ import annotations

import pytest

from shop import clock, payments
from shop.errors import PaymentProviderUnavailableError
from shop.identity import caller_from_claims
from shop.payments.tables import PaymentRow
from tests.unit.shop.apigw_events import BUYER_CLAIMS

BUYER = caller_from_claims(BUYER_CLAIMS)

ORDERS: dict[str, str] = {}


def order_status(order_id: str) -> str | None:
    return ORDERS.get(order_id)


def reconcile() -> payments.ReconciliationReport:
    return payments.reconcile(older_than_seconds=0, order_status=order_status)


def charge(order: str, last4: str = "4242", *, order_status: str = "CREATED") -> None:
    ORDERS[f"ord_{order}"] = order_status
    card = payments.provider().test_card(last4)
    payments.charge(order_id=f"ord_{order}", user_id=BUYER.user_id, amount=1000, currency="USD", card_token=card.token,
                    card_last4=card.last4)  # fmt: skip


def ours(order: str) -> str:
    row = payments.get_payment_row(f"pay_{order}")
    assert row is not None
    return str(row.status)


def theirs(order: str) -> str | None:
    entry = payments.provider().status(f"pay_{order}")
    return None if entry is None else entry.status


def force(order: str, status: str) -> None:
    """Our row as the old code could leave it: moved without asking the provider."""
    PaymentRow(f"pay_{order}").update(
        actions=[PaymentRow.status.set(status), PaymentRow.updated_at.set(clock.now_iso())]
    )


@pytest.fixture(autouse=True)
def _orders() -> None:
    ORDERS.clear()


def test_ended_on_our_side_while_the_provider_holds_the_money(tables) -> None:
    charge("a")
    force("a", "CANCELLED")  # the old cancel: PROCESSING -> CANCELLED with the authorization left at the provider
    ORDERS["ord_a"] = "CANCELLED"
    charge("b")
    force("b", "REFUNDED")
    ORDERS["ord_b"] = "CANCELLED"
    report = reconcile()
    assert sorted(report.settled["provider_holds_money"]) == ["pay_a", "pay_b"]
    assert (theirs("a"), theirs("b")) == ("VOIDED", "REFUNDED")
    assert reconcile().settled == {}  # settled once


def test_captured_on_our_side_but_voided_at_the_provider(tables) -> None:
    charge("c")
    payments.provider().void(payment_id="pay_c", idempotency_key="void:pay_c", reason="EXPIRED")
    report = reconcile()
    assert report.settled == {"captured_but_provider_undid": ["pay_c"]}
    row = payments.get_payment_row("pay_c")
    assert row is not None and (row.status, row.failure_reason) == ("CANCELLED", "VOIDED_AT_PROVIDER")


def test_stuck_voiding_and_refunding_are_finished_through_the_provider(tables, monkeypatch: pytest.MonkeyPatch) -> None:
    charge("d", "3220")
    charge("e")
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "fail=1")  # the workers die at the provider call
    for order in ("d", "e"):
        ORDERS[f"ord_{order}"] = "CANCELLED"
        with pytest.raises(PaymentProviderUnavailableError):
            payments.void_or_refund(f"ord_{order}", ended_as="CANCELLED")
    assert (ours("d"), ours("e")) == ("VOIDING", "REFUNDING")
    assert reconcile().unsettled == {"provider_unavailable": ["pay_d", "pay_e"]}
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    report = reconcile()
    assert report.counts() == {"stuck_voiding": 1, "stuck_refunding": 1}
    assert (ours("d"), theirs("d"), ours("e"), theirs("e")) == ("CANCELLED", "VOIDED", "REFUNDED", "REFUNDED")


def test_stuck_charging_takes_the_providers_answer_while_the_order_is_live(
    tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "timeout=1")
    for order in ("f", "g"):
        with pytest.raises(payments.PaymentProviderUnavailable):
            charge(order)
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    ORDERS["ord_g"] = "EXPIRED"  # the saga gave up and the order expired, but the charge had gone through
    report = reconcile()
    assert sorted(report.settled["stuck_charging"]) == ["pay_f", "pay_g"]
    assert (ours("f"), theirs("f")) == ("CAPTURED", "CAPTURED")
    assert (ours("g"), theirs("g")) == ("EXPIRED", "VOIDED")


def test_stuck_confirming_is_finished_for_a_live_order(tables, monkeypatch: pytest.MonkeyPatch) -> None:
    charge("h", "3220")
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "fail=1")
    with pytest.raises(PaymentProviderUnavailableError):
        payments.confirm(BUYER, "pay_h")
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    assert ours("h") == "CONFIRMING"
    assert reconcile().settled == {"stuck_confirming": ["pay_h"]}
    assert (ours("h"), theirs("h")) == ("CAPTURED", "CAPTURED")


def test_paid_for_an_order_that_ended_is_refunded(tables) -> None:
    charge("i", order_status="CANCELLED")  # the compensation never ran
    assert reconcile().settled == {"paid_for_ended_order": ["pay_i"]}
    assert (ours("i"), theirs("i")) == ("REFUNDED", "REFUNDED")


def test_younger_payments_and_payments_in_order_are_left_alone(tables) -> None:
    charge("j")
    force("j", "CANCELLED")
    ORDERS["ord_j"] = "CANCELLED"
    assert payments.reconcile(older_than_seconds=3600, order_status=order_status).checked == 0
    charge("k")
    report = reconcile()
    assert "pay_k" not in str(report.settled) and report.checked == 2
