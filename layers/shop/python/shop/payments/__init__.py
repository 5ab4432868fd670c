"""Payments: one idempotent charge per order through the payment provider port, its states, voids,
refunds and fraud rules, the customer's confirmation of a payment that needs it, the card a checkout pays
with, and the reconciler that settles payments against the provider's records.

The saga charges (charge), parks its task token on a payment waiting for the customer
(await_confirmation) and undoes a payment whatever it reached (void_or_refund); the customer approves with
confirm; PaymentsReconcilerFunction runs reconcile. Failures the saga acts on are exceptions whose class
names the state machine matches. The card number reaches only the provider (card_for); only the last four
digits are kept.
"""

from shop.payments.cards import card_for
from shop.payments.charges import (
    Charge,
    FraudRejected,
    InsufficientFunds,
    PaymentDeclined,
    PaymentProviderUnavailable,
    PaymentVoided,
    await_confirmation,
    captured,
    charge,
    confirm,
    get_payment_row,
    payment_id_for,
    provider,
    void_or_refund,
)
from shop.payments.provider import CardToken
from shop.payments.reconciliation import ReconciliationReport, reconcile

__all__ = [
    "CardToken",
    "Charge",
    "FraudRejected",
    "InsufficientFunds",
    "PaymentDeclined",
    "PaymentProviderUnavailable",
    "PaymentVoided",
    "ReconciliationReport",
    "await_confirmation",
    "captured",
    "card_for",
    "charge",
    "confirm",
    "get_payment_row",
    "payment_id_for",
    "provider",
    "reconcile",
    "void_or_refund",
]
