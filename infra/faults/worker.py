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
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import secrets
import time
import zlib
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
    def __init__(self, spec_file: str, counts_file: str, rng: random.Random | None = None) -> None:
        self.spec_file = spec_file
        self.counts_file = counts_file
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

    # ------------------------------------------------------------------ the hook

    def before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        """botocore's before-send.dynamodb.*: None lets the call go to DynamoDB; a response replaces it."""
        if not self.rules and not self.outage_until:
            return None
        if self.outage_until and time.time() < self.outage_until:
            from botocore.exceptions import EndpointConnectionError

            self.count(self.outage_key)
            raise EndpointConnectionError(endpoint_url=request.url)
        operation = event_name.rsplit(".", 1)[-1]
        body: dict[str, Any] | None = None
        tables: list[str] = []
        for rule in self.rules:
            if rule.operations and operation not in rule.operations:
                continue
            if rule.kind == "conflict" and operation not in ("TransactWriteItems", "TransactGetItems"):
                continue
            if rule.tables or rule.kind == "conflict":
                if body is None:
                    body = _json_body(request.body)
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
        return None

    def _conflict(self, url: str, tables: list[str], scope: frozenset[str]) -> Any:
        """TransactionCanceledException with one reason per TransactItem: the conflict on an item of the scoped
        table (any item when unscoped), "None" for the others, as DynamoDB answers."""
        candidates = [index for index, table in enumerate(tables) if not scope or table in scope] or [0]
        conflicted = self.rng.choice(candidates)
        reasons = [dict(CONFLICT_REASON) if index == conflicted else {"Code": "None"} for index in range(len(tables))]
        message = ", ".join(reason["Code"] for reason in reasons)
        return error_response(
            url, 400, "TransactionCanceledException",
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{message}]",
            CancellationReasons=reasons,
        )  # fmt: skip


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


def install(spec_file: str, counts_file: str) -> WorkerFaults:
    """Every DynamoDB client this process creates from now on is hooked; returns what refresh() keeps current."""
    faults = WorkerFaults(spec_file, counts_file)
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
