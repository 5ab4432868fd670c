"""The local provider's ledger (moto's DynamoDB): one entry per payment id, every call idempotent per (payment
id, operation), a void before the authorize makes the authorize answer VOIDED, and the faults read from
PAYMENT_PROVIDER_FAULTS on every call."""

from __future__ import annotations

import importlib
import time

import pytest

from shop.payments.provider import LocalPaymentProvider, ProviderUnavailableError

PROVIDER = LocalPaymentProvider()
# The module, not the package's provider() of the same name.
provider_module = importlib.import_module("shop.payments.provider")


def authorize(payment_id: str, last4: str = "4242", attempt: int = 1) -> str:
    token = PROVIDER.test_card(last4).token
    return PROVIDER.authorize(payment_id=payment_id, token=token, amount=500, currency="USD", attempt=attempt).outcome


def ledger(payment_id: str) -> str | None:
    entry = PROVIDER.status(payment_id)
    return None if entry is None else entry.status


def test_authorize_is_recorded_once_and_answered_from_the_ledger(tables) -> None:
    assert authorize("pay_a") == "APPROVED"
    assert authorize("pay_a", last4="0002") == "APPROVED"  # same payment id: the first answer stands
    entry = PROVIDER.status("pay_a")
    assert entry is not None
    assert (entry.status, entry.operations) == ("CAPTURED", frozenset({"authorize:pay_a"}))


def test_a_void_before_the_authorize_makes_the_authorize_answer_voided(tables) -> None:
    voided = PROVIDER.void(payment_id="pay_b", idempotency_key="void:pay_b", reason="CANCELLED")
    assert (voided.status, voided.void_reason) == ("VOIDED", "CANCELLED")
    assert authorize("pay_b") == "VOIDED"
    assert ledger("pay_b") == "VOIDED"


def test_void_after_authorize_releases_the_money_and_repeats_answer_the_same(tables) -> None:
    authorize("pay_c")
    first = PROVIDER.void(payment_id="pay_c", idempotency_key="void:pay_c", reason="EXPIRED")
    again = PROVIDER.void(payment_id="pay_c", idempotency_key="void:pay_c", reason="EXPIRED")
    assert first == again
    assert first.status == "VOIDED" and "void:pay_c" in first.operations


def test_refund_is_idempotent_and_a_voided_payment_has_nothing_to_refund(tables) -> None:
    authorize("pay_d")
    first = PROVIDER.refund(payment_id="pay_d", idempotency_key="refund:pay_d", amount=500)
    again = PROVIDER.refund(payment_id="pay_d", idempotency_key="refund:pay_d", amount=500)
    assert first.status == again.status == "REFUNDED"
    assert first.refund_id == again.refund_id is not None
    PROVIDER.void(payment_id="pay_e", idempotency_key="void:pay_e", reason="EXPIRED")
    assert PROVIDER.refund(payment_id="pay_e", idempotency_key="refund:pay_e", amount=500).status == "VOIDED"


def test_confirm_captures_a_payment_that_needed_it(tables) -> None:
    assert authorize("pay_f", last4="3220") == "REQUIRES_CONFIRMATION"
    assert PROVIDER.confirm(payment_id="pay_f", idempotency_key="confirm:pay_f").status == "CAPTURED"
    assert PROVIDER.confirm(payment_id="pay_f", idempotency_key="confirm:pay_f").status == "CAPTURED"


def test_fault_fail_does_nothing(tables, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "fail=1")
    with pytest.raises(ProviderUnavailableError):
        authorize("pay_g")
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    assert ledger("pay_g") is None


def test_fault_timeout_does_the_work_and_the_retry_finds_it(tables, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "timeout=1")
    with pytest.raises(ProviderUnavailableError):
        authorize("pay_h")
    with pytest.raises(ProviderUnavailableError):
        PROVIDER.void(payment_id="pay_i", idempotency_key="void:pay_i", reason="EXPIRED")
    monkeypatch.delenv("PAYMENT_PROVIDER_FAULTS")
    assert (ledger("pay_h"), ledger("pay_i")) == ("CAPTURED", "VOIDED")
    assert authorize("pay_h", last4="0002") == "APPROVED"  # the retry finds the first authorization


def test_fault_slow_sleeps_first(tables, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "slow=1")
    started = time.monotonic()
    assert authorize("pay_j") == "APPROVED"
    assert time.monotonic() - started >= 0.9


def test_unparsable_faults_are_ignored_with_one_warning(
    tables, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    provider_module._warn_unparsable.cache_clear()
    monkeypatch.setenv("PAYMENT_PROVIDER_FAULTS", "fail=lots,timeout")
    assert authorize("pay_k") == "APPROVED"
    assert authorize("pay_l") == "APPROVED"
    assert [r.levelname for r in caplog.records if "PAYMENT_PROVIDER_FAULTS" in r.getMessage()] == ["WARNING"]
