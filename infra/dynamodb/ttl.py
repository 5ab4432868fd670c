"""The TTL sweeper: deletes expired items, which DynamoDB Local never does, and remembers what it deleted.

On AWS a background process deletes items whose TTL attribute (a Number, epoch seconds) lies in the past,
and their REMOVE stream records carry `userIdentity: {type: Service, principalId: dynamodb.amazonaws.com}`.
Locally the sweeper scans each TTL-enabled table (a Scan is fine: it stands in for AWS's own background
process, never for a request path) every `ttl_sweep_seconds` while the cloud is busy and every
IDLE_SWEEP_SECONDS while no function runs (infra.core.activity). A sweep reads one page of
SWEEP_PAGE_ITEMS items per table, going on from where the last one stopped, so it costs the same however
large a table grows (a pass over n items takes n / SWEEP_PAGE_ITEMS sweeps; AWS promises deletion within
days, not seconds). Each expired item found is deleted with a conditional delete, so an update that
extended the TTL in the meantime wins. AWS's rules are mirrored: an item whose TTL attribute is missing or
not a Number is never deleted, nor one that expired more than five years ago.

DynamoDB Local's stream records carry no userIdentity, so before each delete the sweeper tells the
in-process `TtlDeletions` registry (table, key, TTL value); the stream poller (infra.dynamodb.streams) asks it
whether a REMOVE record was the sweeper's and marks it. The decision is cached per eventID so every
mapping on the stream, and every retry of a batch, sees the same answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from infra.core.activity import Activity
from infra.core.aws import Endpoints
from infra.core.clients import local_client
from infra.dynamodb.models import TtlTableSpec

if TYPE_CHECKING:
    from infra.core.components import Component

log = logging.getLogger("infra.dynamodb")

SERVICE_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
FIVE_YEARS_SECONDS = 5 * 365 * 24 * 3600
SWEEP_PAGE_ITEMS = 1000  # items one sweep reads of a table
IDLE_SWEEP_SECONDS = 5.0  # between sweeps while no function runs (infra.core.activity)
# A stream keeps records for 24 hours: a deletion nobody read by then can no longer be delivered.
RETENTION_SECONDS = 24 * 3600


def _key_text(table: str, keys: dict[str, Any]) -> str:
    def default(value: Any) -> str:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode()
        raise TypeError(type(value).__name__)

    return f"{table}\n{json.dumps(keys, sort_keys=True, default=default)}"


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


class TtlDeletions:
    """Which deletions the sweeper made, for the stream poller to mark as the TTL service's.

    Used from the sweeper's thread and the event loop, hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attributes: dict[str, str] = {}  # table -> TTL attribute name
        self._expected: OrderedDict[tuple[str, Decimal], float] = OrderedDict()  # (table+key, ttl) -> when
        self._service_events: OrderedDict[str, float] = OrderedDict()  # eventIDs already judged the sweeper's
        self._tables: dict[str, str] = {}  # those eventIDs -> their table

    def expect(self, table: str, attribute: str, keys: dict[str, Any], ttl_value: Decimal) -> None:
        """Called before the sweeper's delete, so the REMOVE record can never be read before this."""
        with self._lock:
            self._attributes[table] = attribute
            self._expected[(_key_text(table, keys), ttl_value)] = time.time()
            self._prune()

    def forget(self, table: str, keys: dict[str, Any], ttl_value: Decimal) -> None:
        """The delete did not happen (the item changed): no REMOVE record will come for it."""
        with self._lock:
            self._expected.pop((_key_text(table, keys), ttl_value), None)

    def claim(self, table: str, event_id: str, keys: dict[str, Any], old_image: dict[str, Any] | None) -> bool:
        """True when this REMOVE record is a deletion the sweeper made."""
        with self._lock:
            if event_id in self._service_events:
                return True
            attribute = self._attributes.get(table)
            if attribute is None:
                return False
            key_text = _key_text(table, keys)
            if old_image is not None:
                value = _number((old_image.get(attribute) or {}).get("N"))
                if value is None or self._expected.pop((key_text, value), None) is None:
                    return False
            else:  # KEYS_ONLY / NEW_IMAGE streams: the key alone must do
                match = next((entry for entry in self._expected if entry[0] == key_text), None)
                if match is None:
                    return False
                del self._expected[match]
            self._service_events[event_id] = time.time()
            self._tables[event_id] = table
            return True

    def service_event_ids(self, table: str | None = None) -> list[str]:
        """The eventIDs of the REMOVE records judged the sweeper's (of `table`'s stream, or of every table),
        oldest first, for the last RETENTION_SECONDS: what a stream reader outside the cloud (a replay of
        discarded batches) cannot tell from DynamoDB Local's records, which carry no userIdentity."""
        with self._lock:
            self._prune()
            return [event_id for event_id, _ in self._service_events.items()
                    if table is None or self._tables.get(event_id) == table]  # fmt: skip

    def _prune(self) -> None:
        cutoff = time.time() - RETENTION_SECONDS
        for entries in (self._expected, self._service_events):
            while entries and next(iter(entries.values())) < cutoff:
                entry, _ = entries.popitem(last=False)
                if isinstance(entry, str):
                    self._tables.pop(entry, None)


class TtlSweeper:
    """Deletes expired items of every TTL-enabled table, every `period` seconds."""

    name = "ttl"

    def __init__(
        self,
        tables: list[TtlTableSpec],
        endpoints: Endpoints,
        period: float,
        deletions: TtlDeletions,
        activity: Activity | None = None,
    ) -> None:
        self._tables = tables
        self._activity = activity  # told of deletions, so the stream pollers deliver their REMOVEs promptly
        self._period = max(period, 0.05)
        self._registry = deletions
        self._client = local_client(
            "dynamodb", endpoints.dynamodb, endpoints.region,
            # A call that hangs must not stop every later sweep: give up and try again next period.
            connect_timeout=5, read_timeout=10, retries={"max_attempts": 2},
        )  # fmt: skip
        # A thread of its own: a long sweep must never wait behind (or hold up) the loop's default executor.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ttl-sweeper")
        self._key_names: dict[str, list[str]] = {}
        self._has_stream: dict[str, bool] = {}
        self._resume: dict[str, dict[str, Any]] = {}  # table -> where its scan goes on in the next sweep
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ttl-sweeper")
        log.info(
            "TTL sweeper: %s every %.1f s", ", ".join(f"{t.table_name}.{t.attribute}" for t in self._tables),
            self._period,
        )  # fmt: skip

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            began = time.monotonic()
            try:
                if await loop.run_in_executor(self._executor, self.sweep) and self._activity is not None:
                    self._activity.touch()
            except Exception:
                log.exception("TTL sweep failed; trying again in %.1f s", self._period)
            if time.monotonic() - began > 5 * self._period + 1:
                log.warning("TTL sweep took %.1f s (period %.1f s)", time.monotonic() - began, self._period)
            rest = max(self._period - (time.monotonic() - began), 0.01)
            if self._activity is None:
                await asyncio.sleep(rest)
            else:  # while nothing runs, sweep every IDLE_SWEEP_SECONDS (the next invocation wakes it)
                await self._activity.pause(rest, max(rest, IDLE_SWEEP_SECONDS))

    def sweep(self) -> int:
        """One page (SWEEP_PAGE_ITEMS items read) of every table; returns how many items were deleted."""
        return sum(self._sweep_table(table) for table in self._tables if not self._stopping.is_set())

    def _describe(self, table: str) -> list[str]:
        if table not in self._key_names:
            description = self._client.describe_table(TableName=table)["Table"]
            self._key_names[table] = [key["AttributeName"] for key in description["KeySchema"]]
            self._has_stream[table] = bool(description.get("StreamSpecification", {}).get("StreamEnabled"))
        return self._key_names[table]

    def _sweep_table(self, spec: TtlTableSpec) -> int:
        key_names = self._describe(spec.table_name)
        now = time.time()
        names = {"#ttl": spec.attribute, **{f"#k{i}": name for i, name in enumerate(key_names)}}
        now_value = {"N": f"{now:.3f}"}
        request: dict[str, Any] = {
            "TableName": spec.table_name,
            # attribute_type keeps String TTL values out; the floor mirrors AWS ignoring items expired > 5 years.
            "FilterExpression": "attribute_type(#ttl, :number) AND #ttl < :now AND #ttl >= :floor",
            "ProjectionExpression": ", ".join(["#ttl", *(f"#k{i}" for i in range(len(key_names)))]),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                ":number": {"S": "N"}, ":now": now_value, ":floor": {"N": f"{now - FIVE_YEARS_SECONDS:.3f}"},
            },
            "Limit": SWEEP_PAGE_ITEMS,
        }  # fmt: skip
        resume = self._resume.pop(spec.table_name, None)
        if resume is not None:
            request["ExclusiveStartKey"] = resume
        page = self._client.scan(**request)
        if "LastEvaluatedKey" in page:  # the rest of the table in the next sweeps
            self._resume[spec.table_name] = page["LastEvaluatedKey"]
        deleted = 0
        for item in page.get("Items", []):
            if self._stopping.is_set():
                return deleted
            deleted += self._delete(spec, key_names, item, now_value)
        if deleted:
            log.info("TTL: deleted %d expired item(s) from %s", deleted, spec.table_name)
        return deleted

    def _delete(self, spec: TtlTableSpec, key_names: list[str], item: dict[str, Any], now: dict[str, str]) -> int:
        keys = {name: item[name] for name in key_names}
        seen = item[spec.attribute]
        value = _number(seen["N"])
        track = self._has_stream[spec.table_name] and value is not None
        if track:
            assert value is not None
            self._registry.expect(spec.table_name, spec.attribute, keys, value)
        try:
            self._client.delete_item(
                TableName=spec.table_name,
                Key=keys,
                # The TTL seen by the scan and still in the past: an update that extended it wins.
                ConditionExpression="#ttl = :seen AND #ttl < :now",
                ExpressionAttributeNames={"#ttl": spec.attribute},
                ExpressionAttributeValues={":seen": seen, ":now": now},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            if track:
                assert value is not None
                self._registry.forget(spec.table_name, keys, value)
            log.debug("TTL: %s %s changed before its deletion; kept", spec.table_name, keys)
            return 0
        return 1


def ttl_deletions_route(deletions: TtlDeletions) -> Callable[[Mapping[str, str]], Awaitable[dict[str, Any]]]:
    """`GET /_local/ttl-deletions?table=T` for the gateway's local routes: {"eventIds": [...]}, the stream
    records of the last 24 hours that were the TTL service's deletions (the userIdentity AWS puts in them)."""

    async def route(query: Mapping[str, str]) -> dict[str, Any]:
        return {"eventIds": deletions.service_event_ids(query.get("table") or None)}

    return route


def components(
    tables: list[TtlTableSpec],
    endpoints: Endpoints,
    sweep_seconds: float,
    deletions: TtlDeletions,
    activity: Activity | None = None,
) -> list[Component]:
    """The sweeper of the stack's TTL tables; `deletions` is the registry the stream mappings read too."""
    if not tables:
        return []
    return [TtlSweeper(list(tables), endpoints, sweep_seconds, deletions, activity)]
