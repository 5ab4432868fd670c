"""The fault spec: one string of comma-separated `name[@scope]=value` entries, parsed and checked here.

    dynamodb.conflict=0.2,dynamodb.throttle@Orders/PutItem=0.05,lambda.kill=SagaFunction:1,sqs.reorder=0.5

| entry | value | scope (`@...`, optional) |
|---|---|---|
| dynamodb.conflict | rate: a TransactWriteItems / TransactGetItems is cancelled (conflict) | table, operation |
| dynamodb.throttle | rate: a call is answered 400 ProvisionedThroughputExceededException | table, operation |
| dynamodb.error | rate: a call is answered 500 InternalServerError | table, operation |
| dynamodb.outage | seconds: every DynamoDB call of a function fails to connect, from when it is set | - |
| dynamodb.partition-writes | units/s: writes to one partition key beyond it are throttled (token bucket) | table |
| dynamodb.partition-reads | units/s: reads of one partition key beyond it are throttled (token bucket) | table |
| lambda.kill | FUNCTION:COUNT (the next COUNT invocations) or FUNCTION:RATE (a rate < 1) | - |
| stream.duplicate | rate: a delivered stream batch is delivered again | table |
| sqs.duplicate | rate: a message of a delivered batch is delivered again | queue |
| sqs.reorder | rate: a batch's messages are shuffled | queue |
| provider.NAME | passed as NAME=VALUE in PAYMENT_PROVIDER_FAULTS to the payment provider, uninterpreted | - |

A DynamoDB scope is one or two terms joined by `/`: a DynamoDB operation name (PutItem, TransactWriteItems,
...) and/or a table, by its logical id or physical name; a call matches when it is that operation and
touches that table (any of a transaction's or batch's tables). Rates are probabilities in [0, 1], drawn per
call (each retry attempt of the SDK is a call), per batch or per invocation; a partition limit is capacity
units per second per partition key (infra.faults.worker.PartitionBuckets). A spec that does not parse,
names an unknown entry, function, table or queue, or has a bad value raises FaultSpecError (a ValueError),
so nothing half-valid is ever applied. Standard library only: the CLI checks a spec before sending it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

DYNAMODB_KINDS = ("dynamodb.conflict", "dynamodb.throttle", "dynamodb.error")
RATE_ENTRIES = (*DYNAMODB_KINDS, "stream.duplicate", "sqs.duplicate", "sqs.reorder")
PARTITION_LIMITS = ("dynamodb.partition-writes", "dynamodb.partition-reads")
NAMES = (*RATE_ENTRIES, *PARTITION_LIMITS, "dynamodb.outage", "lambda.kill", "provider.*")
TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
# The DynamoDB API's operations: a scope term that is one of these is an operation, anything else a table.
OPERATIONS = frozenset({
    "BatchExecuteStatement", "BatchGetItem", "BatchWriteItem", "CreateBackup", "CreateGlobalTable",
    "CreateTable", "DeleteBackup", "DeleteItem", "DeleteResourcePolicy", "DeleteTable", "DescribeBackup",
    "DescribeContinuousBackups", "DescribeEndpoints", "DescribeLimits", "DescribeTable", "DescribeTimeToLive",
    "ExecuteStatement", "ExecuteTransaction", "GetItem", "GetResourcePolicy", "ListBackups", "ListTables",
    "ListTagsOfResource", "PutItem", "PutResourcePolicy", "Query", "Scan", "TagResource", "TransactGetItems",
    "TransactWriteItems", "UntagResource", "UpdateContinuousBackups", "UpdateItem", "UpdateTable",
    "UpdateTimeToLive",
})  # fmt: skip
OFF = frozenset({"", "off", "none"})
_ENTRY = re.compile(r"^(?P<name>[a-z]+\.[A-Za-z_][\w-]*)(?:@(?P<scope>[^=]+))?=(?P<value>.*)$")


class FaultSpecError(ValueError):
    """The spec cannot be applied; the message names the entry and what is wrong with it."""


@dataclass(frozen=True)
class Resources:
    """What the running stack has, so that scopes and functions can be checked and names resolved:
    tables and queues by logical id -> physical name, functions by logical id."""

    tables: Mapping[str, str] = field(default_factory=dict)
    queues: Mapping[str, str] = field(default_factory=dict)
    functions: Collection[str] = ()
    hash_keys: Mapping[str, str] = field(default_factory=dict)  # table (physical name) -> partition key attribute


@dataclass(frozen=True)
class FaultEntry:
    name: str  # e.g. "dynamodb.conflict"
    scope: str = ""  # as written after "@"
    value: str = ""  # as written after "="
    rate: float = 0.0  # the chance per call, batch or invocation (0 for a lambda.kill COUNT)
    count: int = 0  # lambda.kill: how many of the next invocations
    seconds: float = 0.0  # dynamodb.outage
    per_second: float = 0.0  # dynamodb.partition-*: capacity units per second per partition key
    function: str = ""  # lambda.kill
    resources: frozenset[str] = frozenset()  # tables or queues, every name that means them; empty: all
    operations: frozenset[str] = frozenset()  # dynamodb.*: empty means every operation

    @property
    def key(self) -> str:
        """How the entry is named in counts: its name and scope, e.g. "dynamodb.conflict@Orders"."""
        return f"{self.name}@{self.scope}" if self.scope else self.name

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class FaultSpec:
    entries: tuple[FaultEntry, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __str__(self) -> str:
        return ",".join(str(entry) for entry in self.entries)

    def named(self, *names: str) -> list[FaultEntry]:
        return [entry for entry in self.entries if entry.name in names]

    @property
    def provider(self) -> str:
        """The provider.* entries as PAYMENT_PROVIDER_FAULTS reads them: `fail=0.05,timeout=0.02`."""
        return ",".join(f"{entry.name.split('.', 1)[1]}={entry.value}" for entry in self.entries
                        if entry.name.startswith("provider."))  # fmt: skip


def parse(text: str, resources: Resources | None = None) -> FaultSpec:
    """The spec in `text` ("" or "off": no faults). With `resources`, functions, tables and queues must exist
    in the stack and their logical ids are resolved to physical names."""
    if text.strip().lower() in OFF:
        return FaultSpec()
    entries: list[FaultEntry] = []
    seen: set[str] = set()
    for part in text.split(","):
        entry = _entry(part.strip(), resources)
        if entry.key in seen:
            raise FaultSpecError(f"{entry.key} is given twice")
        seen.add(entry.key)
        entries.append(entry)
    return FaultSpec(tuple(entries))


def _entry(text: str, resources: Resources | None) -> FaultEntry:  # noqa: PLR0911, PLR0912 - one return per kind
    match = _ENTRY.match(text)
    if not match:
        raise FaultSpecError(f"{text!r} is not NAME=VALUE or NAME@SCOPE=VALUE (entries: {', '.join(NAMES)})")
    name, scope, value = match["name"], (match["scope"] or "").strip(), match["value"].strip()
    where = f"{name}@{scope}" if scope else name
    if name.startswith("provider."):
        _no_scope(name, scope)
        if not value or "," in value:
            raise FaultSpecError(f"{where}: needs a value")
        return FaultEntry(name, value=value)
    if name == "dynamodb.outage":
        _no_scope(name, scope)
        seconds = _number(where, value)
        if seconds <= 0:
            raise FaultSpecError(f"{where}: the outage's length in seconds must be positive, got {value!r}")
        return FaultEntry(name, value=value, seconds=seconds)
    if name == "lambda.kill":
        _no_scope(name, scope)
        return _kill(value, resources)
    if name in PARTITION_LIMITS:
        per_second = _number(where, value)
        if per_second <= 0:
            raise FaultSpecError(f"{where}: capacity units per second must be positive, got {value!r}")
        tables = _resolve(where, scope, resources.tables if resources else None, "table") if scope else frozenset()
        return FaultEntry(name, scope, value, per_second=per_second, resources=tables)
    if name not in RATE_ENTRIES:
        raise FaultSpecError(f"unknown fault {name!r} (entries: {', '.join(NAMES)})")
    rate = _number(where, value)
    if not 0 <= rate <= 1:
        raise FaultSpecError(f"{where}: a rate is between 0 and 1, got {value!r}")
    if name in DYNAMODB_KINDS:
        tables, operations = _dynamodb_scope(name, scope, resources)
        return FaultEntry(name, scope, value, rate=rate, resources=tables, operations=operations)
    if not scope:
        return FaultEntry(name, value=value, rate=rate)
    if name == "stream.duplicate":
        known = resources.tables if resources else None
        return FaultEntry(name, scope, value, rate=rate, resources=_resolve(where, scope, known, "table"))
    known = resources.queues if resources else None
    return FaultEntry(name, scope, value, rate=rate, resources=_resolve(where, scope, known, "queue"))


def _no_scope(name: str, scope: str) -> None:
    if scope:
        raise FaultSpecError(f"{name} takes no @scope")


def _number(where: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise FaultSpecError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise FaultSpecError(f"{where}: {value!r} is not a finite number")
    return number


def _kill(value: str, resources: Resources | None) -> FaultEntry:
    function, separator, amount = value.rpartition(":")
    if not separator or not function:
        raise FaultSpecError(f"lambda.kill: expects FUNCTION:COUNT or FUNCTION:RATE, got {value!r}")
    if resources is not None and function not in resources.functions:
        raise FaultSpecError(f"lambda.kill: no function {function!r} in the stack (functions are named by logical id)")
    if amount.isdigit():
        if int(amount) < 1:
            raise FaultSpecError(f"lambda.kill: a COUNT is at least 1, got {amount!r}")
        return FaultEntry("lambda.kill", value=value, count=int(amount), function=function)
    rate = _number("lambda.kill", amount)
    if not 0 <= rate < 1:
        raise FaultSpecError(f"lambda.kill: a RATE is below 1 (a whole number is a COUNT), got {amount!r}")
    return FaultEntry("lambda.kill", value=value, rate=rate, function=function)


def _dynamodb_scope(name: str, scope: str, resources: Resources | None) -> tuple[frozenset[str], frozenset[str]]:
    where = f"{name}@{scope}"
    tables: frozenset[str] = frozenset()
    operations: frozenset[str] = frozenset()
    for term in (term.strip() for term in scope.split("/")) if scope else ():
        if term in OPERATIONS:
            if operations:
                raise FaultSpecError(f"{where}: names two operations; a scope is one table and/or one operation")
            operations = frozenset({term})
        else:
            if tables:
                raise FaultSpecError(f"{where}: names two tables; a scope is one table and/or one operation")
            tables = _resolve(where, term, resources.tables if resources else None, "table or DynamoDB operation")
    if name == "dynamodb.conflict" and operations and not operations <= TRANSACTIONS:
        raise FaultSpecError(f"{where}: a transaction conflict happens in TransactWriteItems or TransactGetItems")
    return tables, operations


def _resolve(where: str, term: str, known: Mapping[str, str] | None, kind: str) -> frozenset[str]:
    """Every name a table or queue goes by (as written; its physical name), checked when the stack is known."""
    if not term:
        raise FaultSpecError(f"{where}: an empty scope")
    if known is None:
        return frozenset({term})
    if term in known:
        return frozenset({term, known[term]})
    if term in known.values():
        return frozenset({term})
    raise FaultSpecError(f"{where}: no {kind} {term!r} in the stack (by logical id or physical name)")
