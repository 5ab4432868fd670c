"""DynamoDB as every context uses it: table names from the settings, one connection and its transactions,
what a refused write means, and stream images as plain values.

Endpoints: no Meta.host is set on any model, so pynamodb lets botocore resolve the endpoint, and botocore
honours AWS_ENDPOINT_URL_DYNAMODB (then AWS_ENDPOINT_URL); that is how the same code reaches DynamoDB
Local, moto or AWS. The region comes from AWS_REGION / AWS_DEFAULT_REGION the same way. Attribute names
in the tables are camelCase, like the API.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

import botocore.session
import pynamodb.connection.base
from botocore.exceptions import BotoCoreError
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shop.config import required

# ---------------------------------------------------------------- sessions
# pynamodb gives every table's connection a botocore session of its own, and a session's first client loads
# the DynamoDB service model and endpoint rules from JSON: ~50 ms for each model class a cold start touches
# (8 of them, 0.4 s), where another client of the same session takes ~3 ms. pynamodb has no setting for the
# session, so its get_session is replaced: one session per thread, which every connection in that thread
# shares (botocore sessions are not safe to share between threads; pynamodb already keeps them per thread).
# No model sets Meta.aws_access_key_id, the one thing pynamodb would change on a session it was given.
_thread_sessions = threading.local()


def _thread_session() -> botocore.session.Session:
    session: botocore.session.Session | None = getattr(_thread_sessions, "session", None)
    if session is None:
        session = _thread_sessions.session = botocore.session.get_session()
    return session


pynamodb.connection.base.get_session = _thread_session  # type: ignore[attr-defined]


# ---------------------------------------------------------------- tables
class TableName:
    """A model's Meta.table_name, read from the settings when the model is used (never at import), so
    importing a model needs no environment: `table_name = TableName(settings, "items_table")`.

    The settings field is named after its environment variable (items_table <- ITEMS_TABLE); a field a
    function was not given (None) raises ConfigurationError naming the variable.
    """

    def __init__(self, settings: Callable[[], object], field: str) -> None:
        self.settings, self.field = settings, field

    def __get__(self, instance: object, owner: type | None = None) -> str:
        return required(getattr(self.settings(), self.field), self.field.upper())


M = TypeVar("M", bound=Model)


def find(model: type[M], hash_key: str, range_key: str | None = None) -> M | None:
    """The row with these keys, read strongly consistent, or None when there is none."""
    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except model.DoesNotExist:
        return None


def plain_map(value: Any) -> dict[str, Any]:
    """A map attribute's value as a plain dict: a raw MapAttribute as read back, or a dict as freshly built."""
    return dict(value.as_dict()) if hasattr(value, "as_dict") else dict(value)


@cache
def _connection() -> Connection:
    # One connection (and so one botocore client) per process: creating a client costs milliseconds.
    return Connection()


def transaction() -> TransactWrite:
    """A write transaction: every save/update/delete/check inside it commits together or not at all.

    DynamoDB is sent the actions grouped by kind, whatever order they were added in: condition checks,
    then deletes, then puts, then updates. Cancellation.failed counts positions in that order.
    """
    return TransactWrite(connection=_connection())


@dataclass(frozen=True)
class ConditionCheck:
    """A condition on a row of another context, checked inside a transaction that does not write that row
    (e.g. "the order is still PENDING" while inventory reserves stock for it)."""

    model: type[Model]
    hash_key: str
    range_key: str | None
    condition: Condition

    def add_to(self, writes: TransactWrite) -> None:
        writes.condition_check(self.model, self.hash_key, self.range_key, condition=self.condition)


@dataclass(frozen=True)
class GuardedUpdate:
    """A conditional update of a row of another context, written inside that context's transaction (e.g.
    the order moving PENDING -> CREATED in the transaction that reserves its stock): the transaction's
    guard, like a ConditionCheck, which also saves the round trip of a separate write."""

    row: Model
    actions: list[Any]
    condition: Condition
    puts: tuple[Model, ...] = ()  # rows of that context written with it, unconditionally

    def add_to(self, writes: TransactWrite) -> None:
        for row in self.puts:
            writes.save(row)
        writes.update(self.row, actions=self.actions, condition=self.condition)


# ---------------------------------------------------------------- refused writes
def condition_failed(error: PynamoDBException) -> bool:
    """A single Put/Update/Delete was refused because its condition (or pynamodb's version check) failed."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


@dataclass(frozen=True)
class Cancellation:
    """Why DynamoDB cancelled a transaction."""

    failed: frozenset[int]  # positions (see transaction()) of the actions whose condition failed
    busy: bool  # another request wrote one of its items meanwhile, or one throttled: a retry may succeed


def cancellation(error: TransactWriteError) -> Cancellation:
    reasons = error.cancellation_reasons or []
    return Cancellation(
        failed=frozenset(n for n, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"),
        busy=any(reason and reason.code in TRANSIENT_REASONS for reason in reasons),
    )


# ---------------------------------------------------------------- transient failures
# Error codes with which DynamoDB refuses a request that may succeed if sent again: throttling, a
# server-side fault, a transaction still in progress. botocore retries most of them itself a few times;
# what still reaches our code after that must be retried by the caller, never read as "the condition
# failed".
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionInProgressException",
})  # fmt: skip
# Cancellation reasons of a transaction that may succeed if sent again: another transaction or write
# touched one of its items meanwhile (DynamoDB does not queue them), or one item's partition throttled.
TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


class StoreBusy(Exception):
    """DynamoDB did not do the write, or cannot say whether it did: throttled, in conflict with another
    transaction, failing or unreachable. Sending the same idempotent step again is safe; the checkout state
    machine retries this error name with backoff and jitter."""


def transient(error: BaseException) -> bool:
    """The error (or one it was raised from) is DynamoDB being busy or unavailable, not a refusal: a
    retry may succeed. A cancelled transaction counts only when none of its conditions failed."""
    for seen in _causes(error):
        if isinstance(seen, TransactWriteError) and seen.cause_response_code == "TransactionCanceledException":
            cancelled = cancellation(seen)
            return cancelled.busy and not cancelled.failed
        if isinstance(seen, BotoCoreError):  # no answer at all: unreachable, timed out, connection reset
            return True
        if _error_code(seen) in TRANSIENT_CODES:
            return True
    return False


class ProvisionedThroughputExceededException(StoreBusy):  # DynamoDB's name: what the saga's Retry matches
    """StoreBusy because a partition throttled: a table's or a partition's write/read rate was exceeded (a hot
    key: one SKU's stock row in a flash sale). Named as DynamoDB names it, so a Retry can treat it apart."""


class ThrottlingException(StoreBusy):  # DynamoDB's name: what the saga's Retry matches
    """StoreBusy because DynamoDB throttled the request (a transaction item's ThrottlingError, the account's
    request rate, a control-plane limit)."""


THROTTLED: dict[str, type[StoreBusy]] = {
    "ProvisionedThroughputExceededException": ProvisionedThroughputExceededException,
    "ProvisionedThroughputExceeded": ProvisionedThroughputExceededException,  # a transaction item's reason
    "ThrottlingException": ThrottlingException,
    "ThrottlingError": ThrottlingException,  # a transaction item's reason
    "RequestLimitExceeded": ThrottlingException,
}


def busy_error(error: BaseException) -> type[StoreBusy]:
    """The StoreBusy to raise for a transient error: a throttling one by DynamoDB's name (the checkout saga
    retries a throttled hot row longer than a conflict), StoreBusy for the rest."""
    for seen in _causes(error):
        if isinstance(seen, TransactWriteError) and seen.cause_response_code == "TransactionCanceledException":
            codes = [reason.code for reason in seen.cancellation_reasons or [] if reason]
            return next((THROTTLED[code] for code in codes if code in THROTTLED), StoreBusy)
        code = _error_code(seen)
        if code in THROTTLED:
            return THROTTLED[code]
    return StoreBusy


def _causes(error: BaseException) -> list[BaseException]:
    """The error and those it was raised from (pynamodb keeps botocore's error in `cause`)."""
    found: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in found:
        found.append(seen)
        wrapped = getattr(seen, "cause", None)
        seen = wrapped if isinstance(wrapped, BaseException) and wrapped not in found else (
            seen.__cause__ or seen.__context__)  # fmt: skip
    return found


def _error_code(error: BaseException) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


# ---------------------------------------------------------------- stream records
def stream_image(attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stream record's image (NewImage, OldImage, Keys) in DynamoDB JSON -> plain, JSON-ready values:
    numbers as int (or float), sets as sorted lists, maps and lists as dicts and lists.

    Hand-written because boto3's and powertools' deserializers reject a value with no type tag, which
    DynamoDB Local writes into stream records for empty maps (`"attributes": {}`); it means {}.
    """
    if attributes is None:
        return None
    return {str(name): _plain(value) for name, value in attributes.items()}


def _plain(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError(f"not a DynamoDB attribute value: {value!r}")
    if not value:
        return {}  # an empty map without its "M" tag
    kind, data = next(iter(value.items()))
    read = _READERS.get(kind)
    return data if read is None else read(data)  # S as it is; B and BS (base64 text) never occur in our rows


def _number(text: Any) -> int | float:
    number = Decimal(str(text))
    return int(number) if number == number.to_integral_value() else float(number)


_READERS: dict[str, Callable[[Any], Any]] = {
    "N": _number,
    "BOOL": bool,
    "NULL": lambda data: None,
    "M": lambda data: {str(key): _plain(item) for key, item in data.items()},
    "L": lambda data: [_plain(item) for item in data],
    "SS": sorted,
    "NS": lambda data: sorted(_number(item) for item in data),
}
