"""The gaps where money could stay held, reproduced by ordering the real calls against moto's DynamoDB and the
provider's ledger: a cancel between the authorize and the CAPTURED write, a void of a payment still
CHARGING, a void that arrives before the authorize, a provider timeout and its retry, and workers that die
between an intermediate state and the provider call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shop import payments
from shop.errors import PaymentNotConfirmableError, PaymentProviderUnavailableError
from shop.identity import caller_from_claims
from shop.payments.provider import Authorization, LocalPaymentProvider
from tests.unit.shop.apigw_events import BUYER_CLAIMS

BUYER = caller_from_claims(BUYER_CLAIMS)


def charge(order: str, last4: str = "4242") -> payments.Charge:
    card = payments.provider().test_card(last4)
    return payments.charge(order_id=f"ord_{order}", user_id=BUYER.user_id, amount=1000, currency="USD",
                           card_token=card.token, card_last4=card.last4)  # fmt: skip


def ours(order: str) -> str | None:
    row = payments.get_payment_row(payments.payment_id_for(f"ord_{order}"))
    return None if row is None else str(row.status)


def theirs(order: str) -> tuple[str | None, frozenset[str]]:
    entry = payments.provider().status(payments.payment_id_for(f"ord_{order}"))
    return (None, frozenset()) if entry is None else (entry.status, entry.operations)


@pytest.fixture
def between_authorize_and_write(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], Any]]:
    """Calls to run right after the provider's authorize answered, before charge() writes the outcome."""
    pending: list[Callable[[], Any]] = []
    real = LocalPaymentProvider.authorize

    def authorize_then(self: LocalPaymentProvider, **kwargs: Any) -> Authorization:
        answer = real(self, **kwargs)
        while pending:
            pending.pop(0)()
        return answer

    monkeypatch.setattr(LocalPaymentProvider, "authorize", authorize_then)
    return pending


def test_a_cancel_between_authorize_and_the_captured_write_voids_at_the_provider(
    tables, between_authorize_and_write: list[Callable[[], Any]]
) -> None:
    between_authorize_and_write.append(lambda: payments.void_or_refund("ord_race", ended_as="CANCELLED"))
    with pytest.raises(payments.PaymentVoided):
        charge("race")
    assert ours("race") == "CANCELLED"
    status, operations = theirs("race")
    assert status == "VOIDED" and "void:pay_race" in operations  # the authorization did not outlive the payment


def test_voiding_a_charging_payment_calls_the_provider(tables) -> None:
    with pytest.raises(payments.PaymentProviderUnavailable):
        charge("charging", "0119")  # the first attempt fails at the provider: the row stays CHARGING
    assert ours("charging") == "CHARGING"
    assert payments.void_or_refund("ord_charging", ended_as="EXPIRED") == "EXPIRED"
    assert theirs("charging")[0] == "VOIDED"
    with pytest.raises(payments.PaymentVoided):  # the saga's retry takes no money
        charge("charging", "0119")
    assert (ours("charging"), theirs("charging")[0]) == ("EXPIRED", "VOIDED")


def test_an_authorize_arriving_after_the_void_answers_voided(tables) -> None:
    with pytest.raises(payments.PaymentProviderUnavailable):
        charge("late", "0119")
    payments.void_or_refund("ord_late", ended_as="CANCELLED")
    card = payments.provider().test_card("4242")  # the first attempt's request, reaching the provider late
    late = payments.provider().authorize(payment_id="pay_late", token=card.token, amount=1000, currency="USD",
                                         attempt=2)  # fmt: skip
    assert (late.outcome, late.void_reason) == ("VOIDED", "CANCELLED")
    assert theirs("late")[0] == "VOIDED"


def test_a_void_before_the_payment_row_exists_stops_a_later_charge(tables) -> None:
    assert payments.void_or_refund("ord_never", ended_as="CANCELLED") is None
    with pytest.raises(payments.PaymentVoided):
        charge("never")
    assert (ours("never"), theirs("never")[0]) == ("CANCELLED", "VOIDED")


def test_a_provider_timeout_then_the_retry_finds_the_same_authorization(
    tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "timeout=1")
    with pytest.raises(payments.PaymentProviderUnavailable):
        charge("timeout")
    assert (ours("timeout"), theirs("timeout")[0]) == ("CHARGING", "CAPTURED")  # done, though we could not know
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    retried = charge("timeout")
    assert retried.status == "CAPTURED" and retried.txn_id is not None
    assert theirs("timeout") == ("CAPTURED", frozenset({"authorize:pay_timeout"}))  # one authorization


def test_a_void_the_provider_did_not_answer_is_finished_by_the_next_charge(
    tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(payments.PaymentProviderUnavailable):
        charge("dead", "0119")
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "fail=1")
    with pytest.raises(PaymentProviderUnavailableError):
        payments.void_or_refund("ord_dead", ended_as="EXPIRED")
    assert ours("dead") == "VOIDING"  # written before the provider call, so the void is not forgotten
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    with pytest.raises(payments.PaymentVoided):
        charge("dead", "0119")
    assert (ours("dead"), theirs("dead")[0]) == ("EXPIRED", "VOIDED")


def test_a_refund_goes_through_the_provider_and_resumes_after_a_failure(
    tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    charge("paid")
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "timeout=1")
    with pytest.raises(PaymentProviderUnavailableError):
        payments.void_or_refund("ord_paid", ended_as="CANCELLED")
    assert (ours("paid"), theirs("paid")[0]) == ("REFUNDING", "REFUNDED")
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    assert payments.void_or_refund("ord_paid", ended_as="CANCELLED") == "REFUNDED"
    assert payments.void_or_refund("ord_paid", ended_as="CANCELLED") == "REFUNDED"
    status, operations = theirs("paid")
    assert status == "REFUNDED" and "refund:pay_paid" in operations


def test_voiding_a_payment_awaiting_confirmation_voids_at_the_provider(tables) -> None:
    assert charge("confirm", "3220").status == "REQUIRES_CONFIRMATION"
    assert payments.void_or_refund("ord_confirm", ended_as="EXPIRED") == "EXPIRED"
    assert theirs("confirm")[0] == "VOIDED"
    with pytest.raises(PaymentNotConfirmableError):
        payments.confirm(BUYER, "pay_confirm")
    assert theirs("confirm")[0] == "VOIDED"


def test_confirm_goes_through_confirming_and_the_provider(tables) -> None:
    charge("ok", "3220")
    assert payments.confirm(BUYER, "pay_ok").status == "CAPTURED"
    status, operations = theirs("ok")
    assert status == "CAPTURED" and "confirm:pay_ok" in operations
    assert payments.confirm(BUYER, "pay_ok").status == "CAPTURED"  # answered the same
