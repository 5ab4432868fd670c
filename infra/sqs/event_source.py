"""SQS event source mappings: poll a queue in moto and deliver batches to a function as Lambda does.

Each mapping gets a few pollers (ScalingConfig.MaximumConcurrency, default DEFAULT_POLLERS) that long-poll
the queue, gather a batch (BatchSize, MaximumBatchingWindowInSeconds), drop the messages FilterCriteria
rejects (matched with infra.events.patterns, a JSON body as an object; deleted, as AWS does), invoke the
function with the Lambda SQS event and then delete what succeeded: the whole batch, or with
ReportBatchItemFailures everything but the reported items. Messages of a failed batch are left alone;
they come back after the queue's visibility timeout, and moto's RedrivePolicy moves them to the
dead-letter queue once they have been received maxReceiveCount times (moto 5.2.5 does this on
ReceiveMessage, as AWS does; tests/integration/test_queues.py checks it). FIFO ordering per message group
comes from moto too: it hands out no message of a group while an earlier one is in flight; the receives
of a FIFO mapping are serialized so that two pollers cannot both take from one group.

The poll loop is our own because nothing in boto3 or moto runs a Lambda poller: each mapping runs the
cloud's shared QueuePoller (infra.core.poller), whose blocking boto3 calls go to the mapping's own small
thread pool, so the cloud's event loop never waits on SQS.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from infra.awslambda.models import EventSourceMappingSpec
from infra.core.clients import local_client
from infra.core.poller import POLL_SECONDS, QueuePoller
from infra.events import patterns

if TYPE_CHECKING:
    from infra.awslambda.workers import FunctionRuntime
    from infra.core.aws import Endpoints
    from infra.core.components import Component
    from infra.faults.control import FaultControl

log = logging.getLogger("infra.sqs")

DEFAULT_BATCH_SIZE = 10
DEFAULT_POLLERS = 5  # Lambda starts five pollers per SQS mapping


def filter_patterns(properties: dict[str, Any], owner: str = "event source mapping") -> list[dict[str, Any]]:
    """FilterCriteria.Filters[].Pattern, loaded with infra.events.patterns (Lambda's grammar is EventBridge's)."""
    return patterns.load_filters(properties, owner)


def record_matches(filters: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """A record passes when any filter matches it; a JSON body is matched as the parsed object, as on AWS."""
    if not filters:
        return True
    subject = dict(record)
    try:
        body = json.loads(record["body"])
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict):
        subject["body"] = body
    return patterns.matches_any(filters, subject)


def _message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute values to the lower-camel shape of the Lambda event (binary as base64)."""
    shaped: dict[str, Any] = {}
    for name, value in attributes.items():
        binary = value.get("BinaryValue")
        shaped[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
            "dataType": value.get("DataType"),
        }
        if shaped[name]["binaryValue"] is None:
            del shaped[name]["binaryValue"]
        if shaped[name]["stringValue"] is None:
            del shaped[name]["stringValue"]
    return shaped


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_items(payload: bytes, message_ids: set[str]) -> set[str] | None:  # noqa: PLR0911 - one per AWS rule
    """The message ids a ReportBatchItemFailures response names, or None when it fails the whole batch.

    AWS treats null, {} and an empty or null batchItemFailures as complete success, and anything it cannot
    read (not JSON, not an object, an itemIdentifier that is missing, empty or not in the batch) as
    complete failure.
    """
    try:
        response = json.loads(payload) if payload.strip() else None
    except ValueError:
        return None
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return None
        failed.add(identifier)
    return failed


class SqsEventSource:
    """One SQS event source mapping: its pollers (infra.core.poller), from receive to delete."""

    def __init__(
        self, spec: EventSourceMappingSpec, runtime: FunctionRuntime, moto_url: str, region: str,
        faults: FaultControl | None = None,
    ) -> None:  # fmt: skip
        props = spec.properties
        self.faults = faults
        self.spec = spec
        self.runtime = runtime
        self.region = region
        self.queue_arn = spec.event_source_arn
        self.queue_name = self.queue_arn.rsplit(":", 1)[-1]
        self.name = f"sqs {self.queue_name} -> {spec.function_name}"
        self.batch_size = int(props.get("BatchSize") or DEFAULT_BATCH_SIZE)
        self.window = float(props.get("MaximumBatchingWindowInSeconds") or 0)
        self.report_failures = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        self.enabled = props.get("Enabled", True) not in (False, "false", "False")
        concurrency = (props.get("ScalingConfig") or {}).get("MaximumConcurrency")
        self.pollers = max(1, int(concurrency)) if concurrency else DEFAULT_POLLERS
        self.patterns = filter_patterns(props, f"{spec.logical_id} ({self.name})")
        self._moto_url = moto_url
        # moto locks a FIFO message group when a receive returns its messages, but two receives running at
        # once can both take from the same group: receives of a FIFO queue are serialized, invocations not.
        self.poller = QueuePoller(
            self.name, self._deliver, log=log, tasks=self.pollers, batch_size=self.batch_size,
            serialize_receives=self.queue_name.endswith(".fifo"), gather=self._gather,
            receive_options={"AttributeNames": ["All"], "MessageAttributeNames": ["All"]},
            thread_name=f"sqs-{self.queue_name}",
        )  # fmt: skip

    async def start(self) -> None:
        if not self.enabled:
            log.info("%s: mapping disabled (Enabled: false)", self.name)
            return
        # Long polls hold a connection each, so the pool covers every poller.
        client = await asyncio.to_thread(
            local_client, "sqs", self._moto_url, self.region, max_pool_connections=self.pollers + 2,
            retries={"max_attempts": 2}, read_timeout=POLL_SECONDS + 10,
        )  # fmt: skip
        queue_url = (await self.poller.call(client.get_queue_url, QueueName=self.queue_name))["QueueUrl"]
        self.poller.start(client, queue_url)
        log.info(
            "%s: %d pollers, batches of up to %d%s%s%s", self.name, self.pollers, self.batch_size,
            f", batching window {self.window:g} s" if self.window > 0 else "",
            ", ReportBatchItemFailures" if self.report_failures else "",
            f", {len(self.patterns)} filter(s)" if self.patterns else "",
        )  # fmt: skip

    async def stop(self) -> None:
        # A poller that is invoking the function finishes and deletes what succeeded (see the poller).
        await self.poller.stop()

    async def _gather(self) -> list[dict[str, Any]]:
        """One batch: the first receive long-polls; with a batching window, keep gathering until it closes."""
        messages = await self.poller.receive(self.batch_size, POLL_SECONDS)
        if not messages or self.window <= 0:
            return messages
        closes = time.monotonic() + self.window
        while len(messages) < self.batch_size and not self.poller.stopping:
            remaining = closes - time.monotonic()
            if remaining <= 0:
                break
            # WaitTimeSeconds is whole seconds: long-poll while a second is left, then short polls.
            wait = POLL_SECONDS if remaining >= POLL_SECONDS else 0
            more = await self.poller.receive(self.batch_size - len(messages), wait)
            messages = _merge(messages, more)
            if not more and not wait:
                await asyncio.sleep(min(remaining, 0.05))
        return messages

    async def _deliver(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Invoke the function with one batch; returns the messages to delete (those that succeeded)."""
        records = [lambda_record(message, self.queue_arn, self.region) for message in messages]
        if self.patterns:
            matches = [record_matches(self.patterns, record) for record in records]
            dropped = [message for message, match in zip(messages, matches, strict=True) if not match]
            if dropped:
                log.debug("%s: %d message(s) did not match the filter criteria: deleted", self.name, len(dropped))
                await self.poller.delete(dropped)
            messages = [message for message, match in zip(messages, matches, strict=True) if match]
            records = [record for record, match in zip(records, matches, strict=True) if match]
            if not messages:
                return []
        duplicates: list[dict[str, Any]] = []
        if self.faults is not None and not self.queue_name.endswith(".fifo"):  # a FIFO group's order holds
            records, duplicates = _faulty(records, self.faults, self.queue_name)
        payload = json.dumps({"Records": records}).encode()
        result = await self.runtime.invoke(self.spec.function_name, payload)
        if duplicates:
            # SQS is at-least-once: these messages come back once more, as if a delete had been lost.
            again = await self.runtime.invoke(self.spec.function_name, json.dumps({"Records": duplicates}).encode())
            if again.function_error is not None:
                log.warning("%s: duplicated delivery of %d message(s) failed (%s)", self.name, len(duplicates),
                            _error_summary(again.payload))  # fmt: skip
        if result.function_error is not None:
            log.warning(
                "%s: batch of %d failed (%s); the messages return after the visibility timeout",
                self.name, len(messages), _error_summary(result.payload),
            )  # fmt: skip
            return []
        if not self.report_failures:
            return messages
        failed = failed_items(result.payload, {m["MessageId"] for m in messages})
        if failed is None:
            log.warning(
                "%s: batch of %d failed: the response is not a valid batchItemFailures report (%s)",
                self.name, len(messages), result.payload[:200].decode(errors="replace"),
            )  # fmt: skip
            return []
        if failed:
            log.info("%s: %d of %d message(s) reported as failed", self.name, len(failed), len(messages))
        return [m for m in messages if m["MessageId"] not in failed]


def _faulty(
    records: list[dict[str, Any]], faults: FaultControl, queue: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The batch as the faults sqs.reorder (shuffled) and sqs.duplicate (each message at the rate: delivered
    again in a batch of its own) make it."""
    if len(records) > 1 and faults.chance("sqs.reorder", queue):
        shuffled = list(records)
        faults.rng.shuffle(shuffled)
        records = shuffled if shuffled != records else records[::-1]  # a reordering that changes nothing is none
    duplicates = [record for record in records if faults.chance("sqs.duplicate", queue)]
    return records, duplicates


def _error_summary(payload: bytes) -> str:
    try:
        error = json.loads(payload)
        return f"{error.get('errorType')}: {error.get('errorMessage')}"
    except (ValueError, AttributeError):
        return payload[:200].decode(errors="replace")


def components(
    mappings: list[EventSourceMappingSpec],
    runtime: FunctionRuntime,
    endpoints: Endpoints,
    faults: FaultControl | None = None,
) -> list[Component]:
    """A component per mapping of the stack that reads an SQS queue (the others are not ours)."""
    return [
        SqsEventSource(mapping, runtime, endpoints.moto, endpoints.region, faults)
        for mapping in mappings
        if mapping.event_source_arn.startswith("arn:aws:sqs:")
    ]


def _merge(batch: list[dict[str, Any]], received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A batch holds each message once, as Lambda's batches do. SQS is at-least-once: a receive may return
    a message again (moto did, to two concurrent receives, until infra.sqs.moto_hooks locked its queues).
    Inside one batching window the copy received last is kept, since only its receipt handle deletes it,
    in the place the message first took; a repeat in a later batch stays one."""
    by_id = {message["MessageId"]: message for message in batch}
    for message in received:
        by_id[message["MessageId"]] = message
    return list(by_id.values())
