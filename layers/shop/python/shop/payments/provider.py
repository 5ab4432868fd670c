"""The payment provider port and the local provider that stands in for a card processor.

The card number crosses our code exactly once: POST /checkout hands it to `tokenize`, which returns an
opaque token, the last four digits and a fingerprint; only those are kept (orders, payments, executions,
logs, the provider's ledger). A real provider tokenizes in the browser; the port keeps that shape.

The provider keeps its own records, like a card processor's payment intents: one ledger entry per payment
id (PaymentProviderLedgerTable), whose status is the truth about the money:

    authorize  -> CAPTURED | REQUIRES_CONFIRMATION | DECLINED | INSUFFICIENT_FUNDS
    confirm    REQUIRES_CONFIRMATION -> CAPTURED
    void       CAPTURED | REQUIRES_CONFIRMATION | (no entry yet) -> VOIDED
    refund     CAPTURED -> REFUNDED

Every call is idempotent per (payment id, operation) and answers from the ledger once the entry exists: a
retry after a timeout finds the work done; a void that arrives before the authorize leaves a VOIDED entry,
so the late authorize answers VOIDED (a cancelled payment intent) and takes no money. Each entry keeps the
idempotency keys it was called with (`operations`), for reconciliation and tests.

Local test cards, chosen by the last four digits (any other card is approved):
    0002  declined                      9995  insufficient funds
    0119  transient error, then approved 0341  fraud (on the fraud blocklist by fingerprint)
    3220  needs the customer's confirmation (POST /payments/{paymentId}/confirm)
    0666  with PAYMENT_TEST_HOOKS only: the worker dies (os._exit) on the first attempt

Faults (PAYMENT_PROVIDER_FAULTS, read on every call, e.g. "fail=0.05,timeout=0.02,slow=0.1", each a
probability): `fail` raises ProviderUnavailableError before doing anything; `timeout` does the work, then
raises it (the caller cannot know the work was done); `slow` sleeps about a second first. Text that does
not parse is ignored with one warning: a typo in a test setting must never fail a payment.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import secrets
import time
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Protocol

from aws_lambda_powertools import Logger
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from shop import clock
from shop.config import checkout_settings, payment_provider_faults
from shop.dynamodb import TableName, condition_failed, find

logger = Logger(child=True)

Outcome = Literal["APPROVED", "DECLINED", "INSUFFICIENT_FUNDS", "REQUIRES_CONFIRMATION", "VOIDED", "REFUNDED"]
# The ledger's statuses that hold the customer's money (or a hold on it).
HOLDS_MONEY = frozenset({"CAPTURED", "REQUIRES_CONFIRMATION"})


@dataclass(frozen=True)
class CardToken:
    token: str
    last4: str
    fingerprint: str


@dataclass(frozen=True)
class Authorization:
    outcome: Outcome
    txn_id: str
    void_reason: str | None = None  # why it was voided, when the outcome is VOIDED


@dataclass(frozen=True)
class ProviderPayment:
    """What the provider's records say about one payment."""

    payment_id: str
    status: str  # CAPTURED, REQUIRES_CONFIRMATION, DECLINED, INSUFFICIENT_FUNDS, VOIDED, REFUNDED
    txn_id: str
    refund_id: str | None
    void_reason: str | None
    operations: frozenset[str]  # the idempotency keys it was called with


class ProviderUnavailableError(Exception):
    """A transient failure: retrying the same request later may succeed (and may find it done)."""


class InvalidCardError(ValueError):
    """A card number or token the provider does not accept."""


class PaymentProvider(Protocol):
    def tokenize(self, card_number: str) -> CardToken: ...

    def card_from_token(self, token: str) -> CardToken: ...

    def test_card(self, last4: str) -> CardToken: ...

    def authorize(self, *, payment_id: str, token: str, amount: int, currency: str, attempt: int) -> Authorization: ...

    def confirm(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment: ...

    def void(self, *, payment_id: str, idempotency_key: str, reason: str) -> ProviderPayment: ...

    def refund(self, *, payment_id: str, idempotency_key: str, amount: int) -> ProviderPayment: ...

    def status(self, payment_id: str) -> ProviderPayment | None: ...


class LedgerEntry(Model):
    """PaymentProviderLedgerTable: the local provider's own record of one payment (pk paymentId)."""

    class Meta:
        table_name = TableName(checkout_settings, "provider_ledger_table")

    payment_id = UnicodeAttribute(hash_key=True, attr_name="paymentId")
    status = UnicodeAttribute()
    txn_id = UnicodeAttribute(attr_name="txnId")
    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    card_last4 = UnicodeAttribute(attr_name="cardLast4", null=True)
    refund_id = UnicodeAttribute(attr_name="refundId", null=True)
    void_reason = UnicodeAttribute(attr_name="voidReason", null=True)
    operations = UnicodeSetAttribute(null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")


_TOKEN = re.compile(r"^tok_local_(\d{4})_[0-9a-f]{16}$")
_OUTCOME_OF_STATUS: dict[str, Outcome] = {
    "CAPTURED": "APPROVED", "REQUIRES_CONFIRMATION": "REQUIRES_CONFIRMATION", "DECLINED": "DECLINED",
    "INSUFFICIENT_FUNDS": "INSUFFICIENT_FUNDS", "VOIDED": "VOIDED", "REFUNDED": "REFUNDED",
}  # fmt: skip
_DECISION_BY_LAST4 = {"0002": "DECLINED", "9995": "INSUFFICIENT_FUNDS", "3220": "REQUIRES_CONFIRMATION"}


class LocalPaymentProvider:
    """Deterministic by the last four digits; its ledger lives in DynamoDB so every worker sees it."""

    def __init__(self, *, test_hooks: bool = False) -> None:
        self.test_hooks = test_hooks

    # ------------------------------------------------------------ cards
    def tokenize(self, card_number: str) -> CardToken:
        # In test mode only the last four digits matter (they choose the test card), so a masked number is
        # tokenized like a full one; the forms a request may use are checked before (payments.card_for).
        return self.test_card(re.sub(r"\D", "", card_number)[-4:])

    def test_card(self, last4: str) -> CardToken:
        """A token for the test card ending in `last4` (what a masked number in a test request stands for)."""
        if not re.fullmatch(r"\d{4}", last4):
            raise InvalidCardError("a test card is chosen by four digits")
        return CardToken(f"tok_local_{last4}_{secrets.token_hex(8)}", last4, f"local-{last4}")

    def card_from_token(self, token: str) -> CardToken:
        last4 = _last4(token)
        return CardToken(token, last4, f"local-{last4}")

    # ------------------------------------------------------------ money
    def authorize(self, *, payment_id: str, token: str, amount: int, currency: str, attempt: int) -> Authorization:
        """Charge the card once per payment id (auto-capture); a repeat answers the entry as it is now."""
        faults = _Faults.now()
        faults.before_the_work()
        last4 = _last4(token)
        entry = find(LedgerEntry, payment_id)
        if entry is None:
            if last4 == "0666" and self.test_hooks and attempt == 1:
                os._exit(70)  # a crashed payment worker, mid-charge (tests only)
            if last4 == "0119" and attempt == 1:
                raise ProviderUnavailableError("the card network timed out")
            now = clock.now_iso()
            entry = LedgerEntry(
                payment_id, status=_DECISION_BY_LAST4.get(last4, "CAPTURED"), txn_id=_txn_id(payment_id),
                amount=amount, currency=currency, card_last4=last4, operations={f"authorize:{payment_id}"},
                created_at=now, updated_at=now,
            )  # fmt: skip
            try:
                entry.save(condition=LedgerEntry.payment_id.does_not_exist())
            except PutError as error:
                if not condition_failed(error):
                    raise
                entry = _entry(payment_id)  # another call (or a void) got there first: its answer stands
        faults.after_the_work()
        return Authorization(_OUTCOME_OF_STATUS[entry.status], entry.txn_id, entry.void_reason)

    def confirm(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment:
        """The customer approved: REQUIRES_CONFIRMATION -> CAPTURED; any other entry answers as it is."""
        faults = _Faults.now()
        faults.before_the_work()
        entry = _change(payment_id, "CAPTURED", idempotency_key, only_from=("REQUIRES_CONFIRMATION",))
        faults.after_the_work()
        return entry

    def void(self, *, payment_id: str, idempotency_key: str, reason: str) -> ProviderPayment:
        """Cancel the payment whatever came first: a capture or a pending confirmation is released, and a
        payment not authorized yet gets a VOIDED entry, so its authorize, if it ever arrives, takes nothing."""
        faults = _Faults.now()
        faults.before_the_work()
        entry = _void(payment_id, idempotency_key, reason)
        faults.after_the_work()
        return entry

    def refund(self, *, payment_id: str, idempotency_key: str, amount: int) -> ProviderPayment:
        """CAPTURED -> REFUNDED (the whole amount); any other entry answers as it is (nothing to refund)."""
        faults = _Faults.now()
        faults.before_the_work()
        if find(LedgerEntry, payment_id) is None:  # never authorized: nothing to give back, nothing to take later
            entry = _void(payment_id, idempotency_key, "REFUNDED")
        else:
            refund_id = "rfd_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
            entry = _change(payment_id, "REFUNDED", idempotency_key, only_from=("CAPTURED",),
                            extra=[LedgerEntry.refund_id.set(refund_id)])  # fmt: skip
        faults.after_the_work()
        return entry

    def status(self, payment_id: str) -> ProviderPayment | None:
        faults = _Faults.now()
        faults.before_the_work()
        entry = find(LedgerEntry, payment_id)
        return None if entry is None else _view(entry)


@cache
def _warn_unparsable(text: str) -> None:
    logger.warning("PAYMENT_PROVIDER_FAULTS ignored: not name=probability pairs", extra={"faults": text})


@dataclass(frozen=True)
class _Faults:
    fail: float = 0.0
    timeout: float = 0.0
    slow: float = 0.0

    @classmethod
    def now(cls) -> _Faults:
        """The faults the environment asks for at this call (none when its text does not parse)."""
        text = payment_provider_faults().strip()
        if not text:
            return cls()
        chances: dict[str, float] = {}
        try:
            for part in text.split(","):
                name, _, value = part.partition("=")
                chance = float(value)
                if name.strip() not in ("fail", "timeout", "slow") or not 0 <= chance <= 1:
                    raise ValueError(part)
                chances[name.strip()] = chance
        except ValueError:
            _warn_unparsable(text)  # once per distinct text, not on every payment
            return cls()
        return cls(**chances)

    def before_the_work(self) -> None:
        # random, not secrets: a fault's chance is test scaffolding, nothing to guess
        if random.random() < self.slow:  # noqa: S311
            time.sleep(1.0)
        if random.random() < self.fail:  # noqa: S311
            raise ProviderUnavailableError("injected fault: the provider is unavailable")

    def after_the_work(self) -> None:
        if random.random() < self.timeout:  # noqa: S311
            raise ProviderUnavailableError("injected fault: the provider's answer timed out")


def _void(payment_id: str, idempotency_key: str, reason: str) -> ProviderPayment:
    now = clock.now_iso()
    tombstone = LedgerEntry(
        payment_id, status="VOIDED", txn_id=_txn_id(payment_id), void_reason=reason,
        operations={idempotency_key}, created_at=now, updated_at=now,
    )  # fmt: skip
    try:
        tombstone.save(condition=LedgerEntry.payment_id.does_not_exist())
        return _view(tombstone)
    except PutError as error:
        if not condition_failed(error):
            raise
    return _change(payment_id, "VOIDED", idempotency_key, only_from=tuple(HOLDS_MONEY),
                   extra=[LedgerEntry.void_reason.set(reason)])  # fmt: skip


def _change(payment_id: str, to: str, idempotency_key: str, *, only_from: tuple[str, ...],
            extra: list[Any] | None = None) -> ProviderPayment:  # fmt: skip
    """Move the entry to `to` if it is in one of `only_from`; the entry as it is afterwards either way."""
    entry = LedgerEntry(payment_id)
    try:
        entry.update(
            actions=[LedgerEntry.status.set(to), LedgerEntry.updated_at.set(clock.now_iso()),
                     LedgerEntry.operations.add({idempotency_key}), *(extra or [])],
            condition=LedgerEntry.payment_id.exists() & LedgerEntry.status.is_in(*only_from),
        )  # fmt: skip
        return _view(entry)
    except UpdateError as error:
        if not condition_failed(error):
            raise
    return _view(_entry(payment_id))


def _entry(payment_id: str) -> LedgerEntry:
    entry = find(LedgerEntry, payment_id)
    if entry is None:
        raise LookupError(f"the provider has no payment {payment_id}")
    return entry


def _view(entry: LedgerEntry) -> ProviderPayment:
    return ProviderPayment(entry.payment_id, entry.status, entry.txn_id, entry.refund_id, entry.void_reason,
                           frozenset(entry.operations or ()))  # fmt: skip


def _txn_id(payment_id: str) -> str:
    return "txn_" + hashlib.sha256(payment_id.encode()).hexdigest()[:20]


def _last4(token: str) -> str:
    match = _TOKEN.match(token)
    if not match:
        raise InvalidCardError("not a local card token")
    return match.group(1)
