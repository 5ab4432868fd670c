"""DynamoDB Streams -> functions: event source mappings delivered as Lambda's stream poller delivers them.

For each AWS::Lambda::EventSourceMapping on a DynamoDB stream, one asyncio task follows the stream's
shards (described every 10 s, and at once when a shard ends; a child shard starts once its parent is
drained) and one task per shard reads it in order with the `dynamodbstreams` API. A shard with nothing new
is polled again after 60 ms while the cloud is busy and after up to 1 s while it is idle (a function
invocation wakes it; see infra.core.activity), so an idle cloud costs little. Records are turned
into Lambda's record shape, marked when the TTL sweeper deleted them (infra.dynamodb.ttl), filtered with
FilterCriteria, batched (BatchSize, MaximumBatchingWindowInSeconds) and invoked through FunctionRuntime.

A failing batch blocks its shard, as on AWS: it is retried (ReportBatchItemFailures: from the first
reported record on), split in two first when BisectBatchOnFunctionError is set (splitting does not count
as a retry), and discarded after MaximumRetryAttempts retries or when its records are older than
MaximumRecordAgeInSeconds, with AWS's failure record sent to DestinationConfig.OnFailure (SQS or SNS).

This is hand-written because neither boto3 nor moto has a stream poller that invokes local processes;
FilterCriteria use infra.events.patterns (Lambda's filter syntax is EventBridge's; moto's matcher gets
arrays of objects and 5 vs 5.0 wrong), and an invalid pattern stops the cloud's start, as AWS refuses it.
boto3 calls are blocking, so they run on a thread pool owned by this module, never the gateway's loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from infra.awslambda.models import EventSourceMappingSpec
from infra.awslambda.workers import FunctionRuntime, InvokeResult
from infra.core.activity import Activity
from infra.core.aws import Endpoints
from infra.core.clients import local_client
from infra.dynamodb.ttl import SERVICE_IDENTITY, TtlDeletions
from infra.events import patterns
from infra.faults.control import FaultControl

if TYPE_CHECKING:
    from infra.core.components import Component

log = logging.getLogger("infra.dynamodb")

STREAM_ARN = re.compile(r"^arn:[\w-]+:dynamodb:(?P<region>[^:]*):[^:]*:table/(?P<table>[^/]+)/stream/.+$")
BUSY_POLL_SECONDS = 0.06  # between GetRecords calls on a shard with nothing new, while the cloud is busy
IDLE_POLL_SECONDS = 1.0  # ... and while it is idle (infra.core.activity); a function invocation wakes it
DISCOVERY_SECONDS = 10.0  # how often the shard list is refreshed (at once when a shard ends)
RETENTION_SECONDS = 24 * 3600  # records older than this are gone from the stream (AWS: 24 h)
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)  # between retries of a failed batch, then 4 s each
GET_RECORDS_LIMIT = 1000
START_WAIT_SECONDS = 3.0  # how long start() waits for the shard iterators
SHARD_DONE = "done"  # a checkpoint: the shard was read to its end

T = TypeVar("T")


def is_stream_mapping(mapping: EventSourceMappingSpec) -> bool:
    return bool(STREAM_ARN.match(mapping.event_source_arn))


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


@dataclass(frozen=True)
class MappingConfig:
    """The EventSourceMapping properties the poller honours, with Lambda's defaults."""

    batch_size: int = 100
    batching_window: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    filters: tuple[dict[str, Any], ...] = ()  # loaded event patterns; a record passes when any matches
    report_item_failures: bool = False
    bisect: bool = False
    max_retries: int = -1  # -1: until the record expires
    max_record_age: float = -1  # -1: the stream's retention
    on_failure: str | None = None
    enabled: bool = True

    @classmethod
    def from_properties(cls, properties: dict[str, Any], owner: str = "event source mapping") -> MappingConfig:
        """The mapping's configuration; an invalid FilterCriteria pattern raises PatternError naming `owner`."""
        filters = tuple(patterns.load_filters(properties, owner))
        destination = ((properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        return cls(
            batch_size=int(properties.get("BatchSize", 100)),
            batching_window=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            starting_position=str(properties.get("StartingPosition", "TRIM_HORIZON")).upper(),
            filters=filters,
            report_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
            bisect=_flag(properties.get("BisectBatchOnFunctionError", False)),
            max_retries=int(properties.get("MaximumRetryAttempts", -1)),
            max_record_age=float(properties.get("MaximumRecordAgeInSeconds", -1)),
            on_failure=str(destination) if destination else None,
            enabled=_flag(properties.get("Enabled", True)),
        )

    def accepts(self, record: dict[str, Any]) -> bool:
        return patterns.matches_any(list(self.filters), record)


def _json_safe(value: Any) -> Any:
    """Binary attribute values as Lambda's JSON event carries them (base64)."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record (as boto3 parses it) in the shape Lambda puts in event["Records"]."""
    dynamodb = dict(raw.get("dynamodb", {}))
    for image in ("Keys", "NewImage", "OldImage"):
        if image in dynamodb:
            dynamodb[image] = {name: _typed(value) for name, value in dynamodb[image].items()}
    event_name = raw["eventName"]
    expired_by_dynamodb_local = False
    if event_name not in EVENT_NAMES:
        # DynamoDB Local 3.x sometimes expires an item itself, and its stream then names the record
        # UNKNOWN_TO_SDK_VERSION (its Java SDK's fallback for an operation it has no name for). Nothing but
        # TTL deletes an item without a request, so this is a REMOVE by the TTL service, as AWS would say.
        has_old, has_new = "OldImage" in dynamodb, "NewImage" in dynamodb
        event_name = "MODIFY" if has_old and has_new else "INSERT" if has_new else "REMOVE"
        expired_by_dynamodb_local = event_name == "REMOVE"
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    record: dict[str, Any] = {
        "eventID": raw["eventID"],
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,  # DynamoDB Local says "ddblocal"
        "dynamodb": _json_safe(dynamodb),
        "eventSourceARN": stream_arn,
    }
    if raw.get("userIdentity"):
        record["userIdentity"] = {"type": raw["userIdentity"].get("Type"),
                                  "principalId": raw["userIdentity"].get("PrincipalId")}  # fmt: skip
    elif expired_by_dynamodb_local:
        record["userIdentity"] = dict(SERVICE_IDENTITY)
    return record


def _typed(value: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB Local's stream images write an empty map as {} with no type; AWS writes {"M": {}}."""
    if not value:
        return {"M": {}}
    if "M" in value:
        return {"M": {name: _typed(item) for name, item in value["M"].items()}}
    if "L" in value:
        return {"L": [_typed(item) for item in value["L"]]}
    return value


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Batch:
    records: list[dict[str, Any]]
    retries: int = 0
    invocations: int = 0
    last: InvokeResult | None = None


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    task: asyncio.Task[None] | None = None
    done: bool = False
    reading: asyncio.Event = field(default_factory=asyncio.Event)  # set once it holds a shard iterator
    checkpoint: str | None = field(default=None, repr=False)


class StreamMapping:
    """One event source mapping from a DynamoDB stream to a function."""

    def __init__(
        self,
        spec: EventSourceMappingSpec,
        runtime: FunctionRuntime,
        endpoints: Endpoints,
        executor: ThreadPoolExecutor,
        *,
        ttl_deletions: TtlDeletions,
        activity: Activity,
        faults: FaultControl | None = None,
        resume_from: Mapping[str, str] | None = None,
    ) -> None:
        match = STREAM_ARN.match(spec.event_source_arn)
        assert match is not None
        self.spec = spec
        self.name = f"stream:{spec.logical_id}"
        self.table = match["table"]
        self.config = MappingConfig.from_properties(spec.properties, f"{spec.logical_id} ({self.table} stream)")
        self._runtime = runtime
        self._region = endpoints.region
        self._executor = executor
        self._ttl = ttl_deletions
        self._activity = activity
        self._faults = faults
        self._streams = local_client("dynamodbstreams", endpoints.dynamodb, endpoints.region)
        self._sqs = local_client("sqs", endpoints.moto, endpoints.region)
        self._sns = local_client("sns", endpoints.moto, endpoints.region)
        self._shards: dict[str, _Shard] = {}
        self._shard_ended = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listed = asyncio.Event()
        self._label = f"{spec.logical_id} ({self.table} -> {spec.function_name})"
        # A persisted cloud's restart: where each shard was read up to (SHARD_DONE: to its end), as Lambda
        # keeps a mapping's position across its own restarts.
        self._resume_from = dict(resume_from or {})

    def checkpoints(self) -> dict[str, str]:
        """Where each shard has been delivered up to (a sequence number, or SHARD_DONE), for `resume_from`."""
        positions = dict(self._resume_from)
        for shard_id, shard in self._shards.items():
            if shard.done:
                positions[shard_id] = SHARD_DONE
            elif shard.checkpoint is not None:
                positions[shard_id] = shard.checkpoint
        return positions

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if not self.config.enabled:
            log.info("%s: disabled (Enabled: false)", self._label)
            return
        self._task = asyncio.create_task(self._follow_shards(), name=self.name)
        # Wait (briefly) until every shard has its iterator, so a LATEST mapping sees writes made once
        # the cloud says ready.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listed.wait(), START_WAIT_SECONDS)
            readers = [shard.reading.wait() for shard in self._shards.values() if shard.task is not None]
            await asyncio.wait_for(asyncio.gather(*readers), START_WAIT_SECONDS)
        log.info(
            "%s: from %s, batch size %d, window %.1f s", self._label, self.config.starting_position,
            self.config.batch_size, self.config.batching_window,
        )  # fmt: skip

    async def stop(self) -> None:
        tasks = [shard.task for shard in self._shards.values() if shard.task is not None]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _call(self, function: Callable[..., T], **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: function(**kwargs))

    # ------------------------------------------------------------------------------ shards

    async def _describe_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.spec.event_source_arn}
        while True:
            description = (await self._call(self._streams.describe_stream, **request))["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    async def _follow_shards(self) -> None:
        first = True
        while True:
            try:
                listed = await self._describe_shards()
            except Exception as error:  # the stream may be momentarily unavailable; keep the mapping alive
                log.warning("%s: cannot list shards: %s", self._label, error)
                listed = []
            listed_ids = {shard["ShardId"] for shard in listed}
            for shard in listed:
                shard_id = shard["ShardId"]
                if shard_id in self._shards:
                    continue
                resumed = self._resume_from.get(shard_id)
                if resumed == SHARD_DONE:
                    self._shards[shard_id] = _Shard(shard_id, shard.get("ParentShardId"), done=True)
                    continue
                if resumed is not None:
                    state = _Shard(shard_id, shard.get("ParentShardId"), checkpoint=resumed)
                    state.task = asyncio.create_task(self._run_shard(state, "TRIM_HORIZON"),
                                                     name=f"{self.name}:{shard_id}")  # fmt: skip
                    self._shards[shard_id] = state
                    continue
                closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
                if first and self.config.starting_position == "LATEST" and closed:
                    # LATEST starts at the tip of the open shards; what closed shards hold is history.
                    self._shards[shard_id] = _Shard(shard_id, shard.get("ParentShardId"), done=True)
                    continue
                parent = shard.get("ParentShardId")
                if parent and parent in listed_ids and not (parent in self._shards and self._shards[parent].done):
                    continue  # parent before child: start once the parent is drained
                position = "LATEST" if first and self.config.starting_position == "LATEST" else "TRIM_HORIZON"
                state = _Shard(shard_id, parent)
                state.task = asyncio.create_task(self._run_shard(state, position), name=f"{self.name}:{shard_id}")
                self._shards[shard_id] = state
            first = False
            self._listed.set()
            self._shard_ended.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._shard_ended.wait(), DISCOVERY_SECONDS)

    async def _iterator(self, shard: _Shard, position: str, after: str | None) -> str | None:
        request: dict[str, Any] = {"StreamArn": self.spec.event_source_arn, "ShardId": shard.shard_id}
        if after is not None:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        else:
            request["ShardIteratorType"] = position
        response = await self._call(self._streams.get_shard_iterator, **request)
        iterator: str | None = response.get("ShardIterator")
        return iterator

    async def _run_shard(self, shard: _Shard, position: str) -> None:
        """Read a shard to its end; an unexpected error restarts the reader after the last record read."""
        while True:
            try:
                await self._read_shard(shard, position)
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: reading shard %s failed; restarting after its last record", self._label,
                              shard.shard_id)  # fmt: skip
                await asyncio.sleep(1.0)
        shard.done = True
        self._shard_ended.set()

    async def _read_shard(self, shard: _Shard, position: str) -> None:
        # shard.checkpoint: the last record delivered (or filtered out); a restarted reader resumes after it.
        iterator = await self._iterator(shard, position, shard.checkpoint)
        shard.reading.set()
        read_up_to = shard.checkpoint
        buffer: list[dict[str, Any]] = []
        first_buffered = 0.0
        while True:
            full_response = False
            if iterator is not None and len(buffer) < self.config.batch_size:
                try:
                    response = await self._call(self._streams.get_records, ShardIterator=iterator,
                                                Limit=GET_RECORDS_LIMIT)  # fmt: skip
                except (self._streams.exceptions.ExpiredIteratorException,
                        self._streams.exceptions.TrimmedDataAccessException) as error:  # fmt: skip
                    log.debug("%s: %s on %s; getting a new iterator", self._label, type(error).__name__,
                             shard.shard_id)  # fmt: skip
                    await asyncio.sleep(BUSY_POLL_SECONDS)
                    iterator = await self._iterator(shard, "TRIM_HORIZON", read_up_to)
                    continue
                iterator = response.get("NextShardIterator")
                raw_records = response.get("Records", [])
                full_response = len(raw_records) >= GET_RECORDS_LIMIT
                if raw_records:
                    read_up_to = raw_records[-1]["dynamodb"]["SequenceNumber"]
                    self._activity.touch()
                accepted = [record for record in map(self._prepare, raw_records) if self.config.accepts(record)]
                if accepted and not buffer:
                    first_buffered = time.monotonic()
                buffer.extend(accepted)
                if not buffer:
                    shard.checkpoint = read_up_to
            waited = time.monotonic() - first_buffered
            if buffer and (len(buffer) >= self.config.batch_size or iterator is None
                           or waited >= self.config.batching_window):  # fmt: skip
                batch, buffer = buffer[: self.config.batch_size], buffer[self.config.batch_size :]
                if buffer:
                    first_buffered = time.monotonic()
                await self._deliver(batch, shard.shard_id)
                if self._faults is not None and self._faults.chance("stream.duplicate", self.table):
                    # As after a retry whose first success went unrecorded: the whole batch once more.
                    await self._deliver(batch, shard.shard_id)
                shard.checkpoint = batch[-1]["dynamodb"]["SequenceNumber"] if buffer else read_up_to
                continue
            if iterator is None and not buffer:
                log.info("%s: shard %s is closed and fully read", self._label, shard.shard_id)
                return
            if buffer:  # a batching window is open: poll until it closes
                await asyncio.sleep(min(BUSY_POLL_SECONDS, max(self.config.batching_window - waited, 0.0)))
            elif not full_response:
                await self._activity.pause(BUSY_POLL_SECONDS, IDLE_POLL_SECONDS)

    def _prepare(self, raw: dict[str, Any]) -> dict[str, Any]:
        record = lambda_record(raw, self.spec.event_source_arn, self._region)
        if record["eventName"] == "REMOVE" and "userIdentity" not in record:
            dynamodb = record["dynamodb"]
            if self._ttl.claim(self.table, record["eventID"], dynamodb.get("Keys", {}), dynamodb.get("OldImage")):
                record["userIdentity"] = dict(SERVICE_IDENTITY)
        return record

    # ------------------------------------------------------------------------------ delivery

    async def _deliver(self, records: list[dict[str, Any]], shard_id: str) -> None:
        """Invoke until the batch succeeds or is discarded: the shard waits meanwhile, as on AWS."""
        pending = [_Batch(records)]
        while pending:
            batch = pending[0]
            expired = self._expired(batch)
            if expired:
                batch.records = batch.records[len(expired) :]
                await self._discard(_Batch(expired, batch.retries, batch.invocations, batch.last), shard_id,
                                    "RecordAgeExceeded")  # fmt: skip
                if not batch.records:
                    pending.pop(0)
                    continue
            payload = json.dumps({"Records": batch.records}).encode()
            result = await self._runtime.invoke(self.spec.function_name, payload)
            batch.invocations += 1
            batch.last = result
            failed_from = self._failed_from(batch, result)
            if failed_from is None:
                pending.pop(0)
                continue
            if result.function_error and self.config.bisect and len(batch.records) > 1:
                half = len(batch.records) // 2
                log.warning("%s: batch of %d failed (%s); splitting it in two", self._label, len(batch.records),
                            self._error_text(result))  # fmt: skip
                pending[0:1] = [_Batch(batch.records[:half]), _Batch(batch.records[half:])]
                continue
            batch.records = batch.records[failed_from:]
            batch.retries += 1
            limit = self.config.max_retries
            if 0 <= limit < batch.retries:
                await self._discard(batch, shard_id, "RetryAttemptsExhausted")
                pending.pop(0)
                continue
            delay = RETRY_DELAYS[min(batch.retries - 1, len(RETRY_DELAYS) - 1)]
            log.warning(
                "%s: batch of %d failed (%s); retry %d%s in %.1f s", self._label, len(batch.records),
                self._error_text(result), batch.retries, f" of {limit}" if limit >= 0 else "", delay,
            )  # fmt: skip
            await asyncio.sleep(delay)

    def _failed_from(self, batch: _Batch, result: InvokeResult) -> int | None:
        """None when the batch succeeded, else the index of the first record to retry (Lambda's rules)."""
        if result.function_error:
            return 0
        if not self.config.report_item_failures:
            return None
        try:
            response = json.loads(result.payload or b"null")
        except ValueError:
            return 0  # an unreadable response fails the whole batch
        if not isinstance(response, dict) or not response.get("batchItemFailures"):
            return None  # null / empty response or list: complete success
        failures = response["batchItemFailures"]
        positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(batch.records)}
        indexes: list[int] = []
        for failure in failures if isinstance(failures, list) else [None]:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not isinstance(identifier, str) or identifier not in positions:
                return 0  # null, empty or unknown identifier: the whole batch failed
            indexes.append(positions[identifier])
        return min(indexes)

    def _expired(self, batch: _Batch) -> list[dict[str, Any]]:
        max_age = self.config.max_record_age if self.config.max_record_age >= 0 else RETENTION_SECONDS
        cutoff = time.time() - max_age
        expired: list[dict[str, Any]] = []
        for record in batch.records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if not isinstance(created, int | float) or created >= cutoff:
                break
            expired.append(record)
        return expired

    @staticmethod
    def _error_text(result: InvokeResult) -> str:
        if not result.function_error:
            return "reported batch item failures"
        try:
            error = json.loads(result.payload)
            return f"{error.get('errorType')}: {str(error.get('errorMessage'))[:200]}"
        except (ValueError, AttributeError):
            return result.function_error

    def failure_record(self, batch: _Batch, shard_id: str, condition: str) -> dict[str, Any]:
        """What Lambda sends to an OnFailure destination for a discarded stream batch."""
        first, last = batch.records[0]["dynamodb"], batch.records[-1]["dynamodb"]
        function = self._runtime.resolve(self.spec.function_name)
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": function.version}
        if batch.last is not None and batch.last.function_error:
            response["functionError"] = batch.last.function_error
        return {
            "requestContext": {
                "requestId": batch.last.request_id if batch.last else str(uuid.uuid4()),
                # As the mapping names the function: an alias's ARN for a mapping on an alias.
                "functionArn": self._runtime.invoked_arn(self.spec.function_name, function),
                "condition": condition,
                "approximateInvokeCount": batch.invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(time.time()),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(float(first.get("ApproximateCreationDateTime", 0))),
                "approximateArrivalOfLastRecord": _iso(float(last.get("ApproximateCreationDateTime", 0))),
                "batchSize": len(batch.records),
                "streamArn": self.spec.event_source_arn,
            },
        }

    async def _discard(self, batch: _Batch, shard_id: str, condition: str) -> None:
        record = self.failure_record(batch, shard_id, condition)
        info = record["DDBStreamBatchInfo"]
        destination = self.config.on_failure
        log.error(
            "%s: discarding %d record(s) %s..%s of %s (%s after %d invocation(s))%s", self._label,
            len(batch.records), info["startSequenceNumber"], info["endSequenceNumber"], shard_id, condition,
            batch.invocations, f"; failure record sent to {destination}" if destination else "",
        )  # fmt: skip
        if not destination:
            return
        try:
            await self._send(destination, json.dumps(record))
        except Exception:
            log.exception("%s: could not send the failure record to %s", self._label, destination)

    async def _send(self, destination: str, body: str) -> None:
        service = destination.split(":")[2]
        if service == "sqs":
            account, name = destination.split(":")[4:6]
            found = await self._call(self._sqs.get_queue_url, QueueName=name, QueueOwnerAWSAccountId=account)
            url = found["QueueUrl"]
            await self._call(self._sqs.send_message, QueueUrl=url, MessageBody=body)
        elif service == "sns":
            await self._call(self._sns.publish, TopicArn=destination, Message=body)
        else:
            log.error("%s: OnFailure destination %s is neither SQS nor SNS", self._label, destination)


def components(
    mappings: list[EventSourceMappingSpec],
    runtime: FunctionRuntime,
    endpoints: Endpoints,
    ttl_deletions: TtlDeletions,
    activity: Activity,
    *,
    faults: FaultControl | None = None,
    checkpoints: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Component]:
    """A component per mapping of the stack that reads a DynamoDB stream (the others are not ours)."""
    mappings = [spec for spec in mappings if is_stream_mapping(spec)]
    if not mappings:
        return []
    # One outstanding call per shard reader; a few extra for failure destinations and shard listing.
    executor = ThreadPoolExecutor(min(32, 4 + 2 * len(mappings)), thread_name_prefix="streams")
    # Components stop in reverse order: the pool closer goes first so it stops after every mapping.
    result: list[Component] = [_ExecutorCloser(executor)]
    result += [
        StreamMapping(
            spec, runtime, endpoints, executor, ttl_deletions=ttl_deletions, activity=activity, faults=faults,
            resume_from=(checkpoints or {}).get(spec.uuid),
        )
        for spec in mappings
    ]  # fmt: skip
    return result


class _ExecutorCloser:
    """Shuts the mappings' thread pool down once they have stopped."""

    name = "streams:executor"

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
