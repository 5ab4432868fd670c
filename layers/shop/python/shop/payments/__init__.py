"""Payments: one idempotent charge per order through the payment provider port, its states, refunds and
fraud rules, and the customer's confirmation of a payment that needs it.

The saga charges (charge), parks its task token on a payment waiting for the customer
(await_confirmation) and undoes a payment whatever it reached (void_or_refund); the customer approves with
confirm. Failures the saga acts on are exceptions whose class names the state machine matches. The card
number reaches only provider().tokenize; only the last four digits are kept.
"""

from shop.payments.charges import (
    Charge,
    FraudRejected,
    InsufficientFunds,
    PaymentDeclined,
    PaymentProviderUnavailable,
    PaymentVoided,
    await_confirmation,
    charge,
    confirm,
    get_payment_row,
    payment_id_for,
    provider,
    void_or_refund,
)

__all__ = [
    "Charge",
    "FraudRejected",
    "InsufficientFunds",
    "PaymentDeclined",
    "PaymentProviderUnavailable",
    "PaymentVoided",
    "await_confirmation",
    "charge",
    "confirm",
    "get_payment_row",
    "payment_id_for",
    "provider",
    "void_or_refund",
]
