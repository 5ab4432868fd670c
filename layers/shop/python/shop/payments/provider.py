"""The payment provider port and the local provider that stands in for a card processor.

The card number crosses our code exactly once: POST /checkout hands it to `tokenize`, which returns an
opaque token, the last four digits and a fingerprint; only those are kept (orders, payments, executions,
logs). A real provider tokenizes in the browser; the port keeps that shape.

Local test cards, chosen by the last four digits (any other card is approved):
    0002  declined                      9995  insufficient funds
    0119  transient error, then approved 0341  fraud (on the fraud blocklist by fingerprint)
    3220  needs the customer's confirmation (POST /payments/{paymentId}/confirm)
    0666  with PAYMENT_TEST_HOOKS only: the worker dies (os._exit) on the first attempt
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from typing import Literal, Protocol

Outcome = Literal["APPROVED", "DECLINED", "INSUFFICIENT_FUNDS", "REQUIRES_CONFIRMATION"]


@dataclass(frozen=True)
class CardToken:
    token: str
    last4: str
    fingerprint: str


@dataclass(frozen=True)
class Authorization:
    outcome: Outcome
    txn_id: str


class ProviderUnavailableError(Exception):
    """A transient failure: retrying the same request later may succeed."""


class PaymentProvider(Protocol):
    def tokenize(self, card_number: str) -> CardToken: ...

    def authorize(self, *, payment_id: str, token: str, amount: int, currency: str, attempt: int) -> Authorization: ...

    def confirm(self, *, payment_id: str, txn_id: str) -> None: ...

    def refund(self, *, payment_id: str, txn_id: str, amount: int) -> str: ...


_TOKEN = re.compile(r"^tok_local_(\d{4})_[0-9a-f]{16}$")


class LocalPaymentProvider:
    """Deterministic by the last four digits; idempotent per payment id (the txn id is derived from it)."""

    def __init__(self, *, test_hooks: bool = False) -> None:
        self.test_hooks = test_hooks

    def tokenize(self, card_number: str) -> CardToken:
        digits = re.sub(r"\D", "", card_number)
        last4 = digits[-4:]
        return CardToken(f"tok_local_{last4}_{secrets.token_hex(8)}", last4, f"local-{last4}")

    def authorize(self, *, payment_id: str, token: str, amount: int, currency: str, attempt: int) -> Authorization:
        last4 = _last4(token)
        txn_id = "txn_" + hashlib.sha256(payment_id.encode()).hexdigest()[:20]
        if last4 == "0666" and self.test_hooks and attempt == 1:
            os._exit(70)  # a crashed payment worker, mid-charge (tests only)
        if last4 == "0119" and attempt == 1:
            raise ProviderUnavailableError("the card network timed out")
        if last4 == "0002":
            return Authorization("DECLINED", txn_id)
        if last4 == "9995":
            return Authorization("INSUFFICIENT_FUNDS", txn_id)
        if last4 == "3220":
            return Authorization("REQUIRES_CONFIRMATION", txn_id)
        return Authorization("APPROVED", txn_id)

    def confirm(self, *, payment_id: str, txn_id: str) -> None:
        return None

    def refund(self, *, payment_id: str, txn_id: str, amount: int) -> str:
        return "rfd_" + hashlib.sha256(f"refund:{payment_id}".encode()).hexdigest()[:20]


def _last4(token: str) -> str:
    match = _TOKEN.match(token)
    if not match:
        raise ValueError("not a local card token")
    return match.group(1)
