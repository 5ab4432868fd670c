"""The faults inside a function worker: DynamoDB errors answered by a botocore hook, the payment provider's
variable, counted for the cloud.

worker_bootstrap.py loads this file by path (a worker has no `infra` on sys.path), so it imports only the
standard library and, when a DynamoDB client is created, botocore. `install(spec_file, counts_file)` wraps
botocore's Session.create_client so that every DynamoDB client the function creates (boto3.client,
boto3.resource, pynamodb's connection) gets `before_send` on `before-send.dynamodb.*`. The hook answers a
call it injects with a botocore AWSResponse holding DynamoDB's own status, headers and JSON error body, so
botocore parses it, botocore's retry logic retries what it retries for real DynamoDB (throttling and 500s;
not TransactionCanceledException) and pynamodb maps it as it maps the real thing. The cloud's own clients
(stream poller, TTL sweeper) live in the cloud's process and never see it.

The cloud writes the spec as JSON to `spec_file` (infra.faults.control); `refresh()` runs before every
invocation and costs one stat unless the file changed. Each injected fault appends one JSON line
{"g": generation, "e": entry key} to `counts_file`, which the cloud reads from where it stopped.

The same hook counts every DynamoDB call (each of botocore's attempts), per operation and per table, and
`flush_calls()` appends one JSON line per invocation to `calls_file` (`GET /_local/dynamodb-calls`). A
partition limit (dynamodb.partition-writes / -reads) is a token bucket per table and partition key, shared
by every worker through `buckets_file` (PartitionBuckets).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import random
import secrets
import struct
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

PROVIDER_VARIABLE = "PAYMENT_PROVIDER_FAULTS"
JSON_10 = "application/x-amz-json-1.0"
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
THROTTLE_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your "
    "table or index so please try again shortly. If exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
CONFLICT_REASON = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
THROTTLING_REASON = {"Code": "ThrottlingError", "Message": THROTTLE_MESSAGE}
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "TransactGetItems"})  # Query: its key is in an expression


@dataclass(frozen=True)
class DynamoDBRule:
    """One dynamodb.conflict / throttle / error entry as the cloud wrote it (infra.faults.control)."""

    key: str
    kind: str  # "conflict", "throttle" or "error"
    rate: float
    tables: frozenset[str] = frozenset()  # empty: every table
    operations: frozenset[str] = frozenset()  # empty: every operation

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DynamoDBRule:
        return cls(data["key"], data["kind"], float(data["rate"]), frozenset(data.get("tables", ())),
                   frozenset(data.get("operations", ())))  # fmt: skip


def tables_of(operation: str, request: dict[str, Any]) -> list[str]:
    """The tables a DynamoDB request touches, one per TransactItem for transactions (in their order)."""
    if "TransactItems" in request:
        return [next(iter(item.values())).get("TableName", "") for item in request["TransactItems"]]
    if "RequestItems" in request:
        return list(request["RequestItems"])
    return [request["TableName"]] if "TableName" in request else []


@dataclass(frozen=True)
class PartitionRule:
    """One dynamodb.partition-writes / -reads entry: `per_second` units per partition key of the scoped tables."""

    key: str
    kind: str  # "writes" or "reads"
    per_second: float
    tables: frozenset[str] = frozenset()  # empty: every table

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartitionRule:
        return cls(data["key"], data["kind"], float(data["perSecond"]), frozenset(data.get("tables", ())))


def partition_units(operation: str, request: dict[str, Any], hash_keys: dict[str, str]) -> list[tuple[str, str, float]]:
    """(table, partition key value, capacity units) per item the request writes or reads, as DynamoDB bills them
    for items up to 1 KB: 1 unit per write or strongly consistent read, 0.5 per eventually consistent read,
    2 per item of a transaction (its condition checks included). Tables whose key is unknown are left out."""
    def unit(table: str, item: dict[str, Any] | None, units: float) -> list[tuple[str, str, float]]:
        attribute = hash_keys.get(table)
        if not attribute or not item or attribute not in item:
            return []
        return [(table, json.dumps(item[attribute], sort_keys=True), units)]

    if operation in ("PutItem", "UpdateItem", "DeleteItem", "GetItem"):
        units = 1.0 if operation != "GetItem" or request.get("ConsistentRead") else 0.5
        return unit(request.get("TableName", ""), request.get("Item") or request.get("Key"), units)
    found: list[tuple[str, str, float]] = []
    if operation in ("TransactWriteItems", "TransactGetItems"):
        for entry in request.get("TransactItems", ()):
            action: dict[str, Any] = next(iter(entry.values()), {})
            found += unit(action.get("TableName", ""), action.get("Item") or action.get("Key"), 2.0)
    elif operation == "BatchWriteItem":
        for table, writes in request.get("RequestItems", {}).items():
            for write in writes:
                found += unit(table, (write.get("PutRequest") or {}).get("Item")
                              or (write.get("DeleteRequest") or {}).get("Key"), 1.0)  # fmt: skip
    elif operation == "BatchGetItem":
        for table, batch in request.get("RequestItems", {}).items():
            units = 1.0 if batch.get("ConsistentRead") else 0.5
            for key in batch.get("Keys", ()):
                found += unit(table, key, units)
    return found


class PartitionBuckets:
    """Token buckets per (kind, table, partition key) in one file every worker of the cloud maps: SLOTS slots
    of (key hash, tokens, refilled at), each bucket in the slot its hash picks, the whole file locked (lockf)
    for the microseconds a check takes so that workers in parallel draw from the same bucket. A bucket holds
    one second of its rate (DynamoDB's per-partition limit has no burst credit worth counting on). Two keys
    whose hashes share a slot take turns in it: the newcomer starts with a full bucket, so a collision (about
    one in SLOTS for two keys busy in the same second) can only let through more, never throttle wrongly."""

    SLOTS = 1 << 16
    SLOT = struct.Struct("<Qdd")

    def __init__(self, path: str) -> None:
        self.path = path
        self._descriptor: int | None = None
        self.clock = time.monotonic  # CLOCK_MONOTONIC: one clock for every process of the machine

    @classmethod
    def reset(cls, path: str) -> None:
        """Every bucket full (the cloud does this when a spec is set); same inode, so open descriptors see it."""
        with open(path, "r+b" if os.path.exists(path) else "wb") as file:
            file.truncate(0)
            file.truncate(cls.SLOTS * cls.SLOT.size)

    def take(self, wanted: dict[tuple[str, str, str], tuple[float, float]]) -> tuple[str, str, str] | None:
        """Take `units` from each (kind, table, key) bucket whose rate is `per_second`, all or nothing.
        Returns None when every bucket had enough, else the first that did not (nothing is taken then)."""
        if self._descriptor is None:
            self._descriptor = os.open(self.path, os.O_RDWR)
        descriptor = self._descriptor
        now = self.clock()
        fcntl.lockf(descriptor, fcntl.LOCK_EX)
        try:
            updates: list[tuple[int, bytes]] = []
            for bucket, (units, per_second) in wanted.items():
                digest = int.from_bytes(hashlib.blake2b("\x1f".join(bucket).encode(), digest_size=8).digest(), "little")
                offset = (digest % self.SLOTS) * self.SLOT.size
                stored, tokens, refilled_at = self.SLOT.unpack(os.pread(descriptor, self.SLOT.size, offset))
                if stored != digest:
                    tokens, refilled_at = per_second, now
                tokens = min(per_second, tokens + (now - refilled_at) * per_second)
                if tokens < min(units, per_second):  # a request bigger than one second's worth waits for a full bucket
                    return bucket
                updates.append((offset, self.SLOT.pack(digest, tokens - units, now)))
            for offset, data in updates:
                os.pwrite(descriptor, data, offset)
            return None
        finally:
            fcntl.lockf(descriptor, fcntl.LOCK_UN)


class _Body:
    """The raw body of an AWSResponse: botocore reads it with stream()."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def error_response(url: str, status: int, error: str, message: str, **extra: Any) -> Any:
    """DynamoDB's answer to a refused call: JSON 1.0 error body, request id and CRC32 (botocore checks it for
    DynamoDB and retries a mismatch), as a botocore AWSResponse."""
    from botocore.awsrequest import AWSResponse

    # TransactionCanceledException spells its message "Message", the other errors "message", as DynamoDB does.
    message_field = "Message" if error == "TransactionCanceledException" else "message"
    body = json.dumps({"__type": _ERROR_PREFIX + error, **extra, message_field: message}).encode()
    headers = {
        "Server": "Server",
        "Date": formatdate(usegmt=True),
        "Content-Type": JSON_10,
        "Content-Length": str(len(body)),
        "Connection": "keep-alive",
        "x-amzn-RequestId": "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(52)),
        "x-amz-crc32": str(zlib.crc32(body) & 0xFFFFFFFF),
    }
    return AWSResponse(url, status, headers, _Body(body))


class WorkerFaults:
    def __init__(self, spec_file: str, counts_file: str, rng: random.Random | None = None, *,
                 calls_file: str = "", buckets_file: str = "") -> None:  # fmt: skip
        self.spec_file = spec_file
        self.counts_file = counts_file
        self.calls_file = calls_file
        self.buckets = PartitionBuckets(buckets_file) if buckets_file else None
        self.partition_rules: tuple[PartitionRule, ...] = ()
        self.hash_keys: dict[str, str] = {}  # table (physical name) -> its partition key attribute
        self.operations: Counter[str] = Counter()  # DynamoDB calls of this invocation, not yet flushed
        self.tables: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()  # "<operation> <table>[+<table>...]": what a replay must issue
        self.rng = rng or random.Random()  # noqa: S311 - seeded here, in the worker, not inherited from the fork server
        self.generation = 0
        self.rules: tuple[DynamoDBRule, ...] = ()
        self.outage_key = ""
        self.outage_until = 0.0
        self._stamp: tuple[int, int, int] | None = None
        # What the function's own environment says (the template may set it): back to it when cleared.
        self._provider_default = os.environ.get(PROVIDER_VARIABLE)

    # ------------------------------------------------------------------ the spec

    def refresh(self) -> None:
        """Before each invocation: re-read the spec if the cloud changed it (one stat otherwise)."""
        try:
            status = os.stat(self.spec_file)
        except OSError:
            stamp = None
        else:
            stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        state: dict[str, Any] = {}
        if stamp is not None:
            # Replaced between stat and read: read again before the next invocation.
            with contextlib.suppress(OSError, ValueError), open(self.spec_file, "rb") as file:
                state = json.load(file)
        self.load(state)

    def load(self, state: dict[str, Any]) -> None:
        self.generation = int(state.get("generation", 0))
        self.rules = tuple(DynamoDBRule.from_json(rule) for rule in state.get("dynamodb", ()))
        self.partition_rules = tuple(PartitionRule.from_json(rule) for rule in state.get("partitions", ()))
        self.hash_keys = dict(state.get("hashKeys", {}))
        outage = state.get("outage") or {}
        self.outage_key, self.outage_until = str(outage.get("key", "")), float(outage.get("until", 0))
        provider = str(state.get("provider", ""))
        if provider:
            os.environ[PROVIDER_VARIABLE] = provider
        elif self._provider_default is not None:
            os.environ[PROVIDER_VARIABLE] = self._provider_default
        else:
            os.environ.pop(PROVIDER_VARIABLE, None)

    def count(self, key: str) -> None:
        line = json.dumps({"g": self.generation, "e": key}).encode() + b"\n"
        with contextlib.suppress(OSError):  # O_APPEND: lines of concurrent workers never interleave
            descriptor = os.open(self.counts_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)

    def flush_calls(self, step: str = "") -> None:
        """After each invocation: this invocation's DynamoDB calls, one JSON line appended to `calls_file`;
        `step` names who made them (the function, and a saga task's action) for the per-step breakdown."""
        if not self.operations or not self.calls_file:
            return
        line = json.dumps({"o": self.operations, "t": self.tables, "s": step, "k": self.kinds}).encode() + b"\n"
        self.operations, self.tables, self.kinds = Counter(), Counter(), Counter()
        with contextlib.suppress(OSError):
            descriptor = os.open(self.calls_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)

    # ------------------------------------------------------------------ the hook

    def before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        """botocore's before-send.dynamodb.*: None lets the call go to DynamoDB; a response replaces it."""
        operation = event_name.rsplit(".", 1)[-1]
        body = _json_body(request.body)
        self.operations[operation] += 1
        touched = list(dict.fromkeys(tables_of(operation, body)))
        for table in touched:
            self.tables[table] += 1
        self.kinds[f"{operation} {'+'.join(touched)}"] += 1
        if not self.rules and not self.outage_until and not self.partition_rules:
            return None
        if self.outage_until and time.time() < self.outage_until:
            from botocore.exceptions import EndpointConnectionError

            self.count(self.outage_key)
            raise EndpointConnectionError(endpoint_url=request.url)
        tables: list[str] = []
        for rule in self.rules:
            if rule.operations and operation not in rule.operations:
                continue
            if rule.kind == "conflict" and operation not in ("TransactWriteItems", "TransactGetItems"):
                continue
            if rule.tables or rule.kind == "conflict":
                tables = tables_of(operation, body)
                if rule.tables and not rule.tables.intersection(tables):
                    continue
            if self.rng.random() >= rule.rate:
                continue
            self.count(rule.key)
            if rule.kind == "throttle":
                return error_response(request.url, 400, "ProvisionedThroughputExceededException", THROTTLE_MESSAGE)
            if rule.kind == "error":
                return error_response(request.url, 500, "InternalServerError", "Internal server error")
            return self._conflict(request.url, tables, rule.tables)
        return self._partition_limit(request.url, operation, body)

    def _partition_limit(self, url: str, operation: str, body: dict[str, Any]) -> Any:
        """DynamoDB's answer when a partition key's bucket is empty: 400 ProvisionedThroughputExceededException,
        or for a transaction TransactionCanceledException with ThrottlingError for the throttled item."""
        kind = "writes" if operation in WRITE_OPERATIONS else "reads" if operation in READ_OPERATIONS else ""
        rules = [rule for rule in self.partition_rules if rule.kind == kind]
        if not rules or self.buckets is None:
            return None
        items = partition_units(operation, body, self.hash_keys)
        wanted: dict[tuple[str, str, str], tuple[float, float]] = {}
        rule_of: dict[tuple[str, str, str], PartitionRule] = {}
        for table, key, units in items:
            rule = next((r for r in rules if not r.tables or table in r.tables), None)
            if rule is not None:
                bucket = (kind, table, key)
                wanted[bucket] = (wanted.get(bucket, (0.0, 0.0))[0] + units, rule.per_second)
                rule_of[bucket] = rule
        throttled = self.buckets.take(wanted) if wanted else None
        if throttled is None:
            return None
        self.count(rule_of[throttled].key)
        if operation not in ("TransactWriteItems", "TransactGetItems"):
            return error_response(url, 400, "ProvisionedThroughputExceededException", THROTTLE_MESSAGE)
        reasons = [dict(THROTTLING_REASON) if (kind, table, key) == throttled else {"Code": "None"}
                   for table, key, _ in _transact_keys(body, self.hash_keys)]  # fmt: skip
        return _transaction_cancelled(url, reasons)

    def _conflict(self, url: str, tables: list[str], scope: frozenset[str]) -> Any:
        """TransactionCanceledException with one reason per TransactItem: the conflict on an item of the scoped
        table (any item when unscoped), "None" for the others, as DynamoDB answers."""
        candidates = [index for index, table in enumerate(tables) if not scope or table in scope] or [0]
        conflicted = self.rng.choice(candidates)
        reasons = [dict(CONFLICT_REASON) if index == conflicted else {"Code": "None"} for index in range(len(tables))]
        return _transaction_cancelled(url, reasons)


def _transaction_cancelled(url: str, reasons: list[dict[str, str]]) -> Any:
    """TransactionCanceledException as DynamoDB answers it: one reason per TransactItem, their codes in the message."""
    message = ", ".join(reason["Code"] for reason in reasons)
    return error_response(
        url, 400, "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{message}]",
        CancellationReasons=reasons,
    )  # fmt: skip


def _transact_keys(request: dict[str, Any], hash_keys: dict[str, str]) -> list[tuple[str, str, float]]:
    """(table, partition key value, units) for every TransactItem in order ("" for a table of unknown key)."""
    keys = []
    for entry in request.get("TransactItems", ()):
        action: dict[str, Any] = next(iter(entry.values()), {})
        table, item = action.get("TableName", ""), action.get("Item") or action.get("Key") or {}
        attribute = hash_keys.get(table, "")
        keys.append((table, json.dumps(item[attribute], sort_keys=True) if attribute in item else "", 2.0))
    return keys


def _json_body(body: Any) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def attach(client: Any, faults: WorkerFaults) -> Any:
    """Hook one DynamoDB client (tests do this; install() does it for every client of a worker)."""
    client.meta.events.register("before-send.dynamodb.*", faults.before_send)
    return client


def install(spec_file: str, counts_file: str, calls_file: str = "", buckets_file: str = "") -> WorkerFaults:
    """Every DynamoDB client this process creates from now on is hooked; returns what refresh() keeps current."""
    faults = WorkerFaults(spec_file, counts_file, calls_file=calls_file, buckets_file=buckets_file)
    faults.refresh()
    try:
        from botocore.session import Session
    except ImportError:  # a runtime without botocore has no DynamoDB client to hook
        return faults
    original = Session.create_client

    @functools.wraps(original)
    def create_client(self: Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = kwargs.get("service_name", args[0] if args else None)
        if service == "dynamodb":
            attach(client, faults)
        return client

    Session.create_client = create_client  # type: ignore[method-assign]
    return faults
