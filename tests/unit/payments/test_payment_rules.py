"""The local payment provider's test cards, the fraud rules and the payment states (moto's DynamoDB)."""

from __future__ import annotations

import pytest

from shop import payments
from shop.payments.provider import LocalPaymentProvider, ProviderUnavailableError

PROVIDER = LocalPaymentProvider()


def authorize(last4: str, attempt: int = 1) -> str:
    token = PROVIDER.tokenize(f"4111 1111 1111 {last4}").token
    return PROVIDER.authorize(payment_id=f"pay_{last4}", token=token, amount=100, currency="USD",
                              attempt=attempt).outcome  # fmt: skip


# 0341 is approved by the provider (the fraud rules refuse it), 0666 kills its worker only with test hooks.
@pytest.mark.parametrize(
    ("last4", "outcome"),
    [("0002", "DECLINED"), ("9995", "INSUFFICIENT_FUNDS"), ("3220", "REQUIRES_CONFIRMATION"), ("4242", "APPROVED"),
     ("0341", "APPROVED"), ("0666", "APPROVED")],
)  # fmt: skip
def test_test_cards_by_last_four_digits(tables, last4: str, outcome: str) -> None:
    assert authorize(last4) == outcome


def test_transient_card_fails_once_then_is_approved(tables) -> None:
    with pytest.raises(ProviderUnavailableError):
        authorize("0119", attempt=1)
    assert authorize("0119", attempt=2) == "APPROVED"


def test_tokenize_keeps_only_the_last_four_digits() -> None:
    card = PROVIDER.tokenize("4000 0566 5566 5556")
    assert (card.last4, card.fingerprint) == ("5556", "local-5556")
    assert "40000566" not in card.token and "5566 5556" not in card.token


def test_a_token_that_is_not_ours_is_refused() -> None:
    with pytest.raises(ValueError, match="not a local card token"):
        PROVIDER.authorize(payment_id="pay_1", token="4242424242424242", amount=1, currency="USD", attempt=1)


def charge(order: str, last4: str, *, user: str = "u1", amount: int = 1000) -> payments.Charge:
    card = PROVIDER.tokenize(f"4111 1111 1111 {last4}")
    return payments.charge(order_id=f"ord_{order}", user_id=user, amount=amount, currency="USD",
                           card_token=card.token, card_last4=card.last4)  # fmt: skip


def status(order: str) -> str | None:
    row = payments.get_payment_row(payments.payment_id_for(f"ord_{order}"))
    return None if row is None else row.status


def test_fraud_blocklisted_card(tables) -> None:
    with pytest.raises(payments.FraudRejected, match="CARD_BLOCKED"):
        charge("a", "0341")
    assert status("a") == "FRAUD_REJECTED"
    with pytest.raises(payments.FraudRejected):  # a retry answers the same, never a second decision
        charge("a", "0341")


def test_fraud_amount_limit(tables) -> None:
    with pytest.raises(payments.FraudRejected, match="AMOUNT_LIMIT"):
        charge("b", "4242", amount=100_001)
    assert charge("c", "4242", amount=100_000).status == "CAPTURED"


def test_fraud_velocity_per_user(tables) -> None:
    for n in range(3):  # FRAUD_VELOCITY_LIMIT=3: the fourth payment within the window is one too many
        charge(f"v{n}", "4242", user="fast")
    with pytest.raises(payments.FraudRejected, match="VELOCITY"):
        charge("v3", "4242", user="fast")
    assert charge("w", "4242", user="someone-else").status == "CAPTURED"


def test_failures_are_recorded_and_retries_change_nothing(tables) -> None:
    with pytest.raises(payments.PaymentDeclined):
        charge("d", "0002")
    with pytest.raises(payments.InsufficientFunds):
        charge("e", "9995")
    assert (status("d"), status("e")) == ("DECLINED", "INSUFFICIENT_FUNDS")
    first = charge("f", "4242")
    again = charge("f", "4242")
    assert (first, status("f")) == (again, "CAPTURED")


def test_transient_error_then_capture_on_retry(tables) -> None:
    with pytest.raises(payments.PaymentProviderUnavailable):
        charge("t", "0119")
    assert status("t") == "CHARGING"
    assert charge("t", "0119").status == "CAPTURED"


def test_void_or_refund(tables) -> None:
    charge("r", "4242")
    assert payments.void_or_refund("ord_r") == "REFUNDED"
    assert payments.void_or_refund("ord_r") == "REFUNDED"  # idempotent
    assert charge("p", "3220").status == "REQUIRES_CONFIRMATION"
    assert payments.void_or_refund("ord_p", ended_as="EXPIRED") == "EXPIRED"
    assert payments.void_or_refund("ord_none") is None
