"""Delivering one event to one rule target, with the target's RetryPolicy and DeadLetterConfig.

Targets by ARN: Lambda functions (handed to the function's asynchronous invoke queue, as EventBridge
does), SQS queues, Step Functions state machines (StartExecution), other event buses (PutEvents) and SNS
topics, the last four through moto with boto3.

What counts as a failed delivery follows AWS: the target could not accept the event. A Lambda function
that does not exist (or any missing target) is not retried and goes straight to the DLQ; a throttled
function (reserved concurrency 0) and other service errors are retried with exponential back-off until
MaximumRetryAttempts (default 185) or MaximumEventAgeInSeconds (default 86400) is reached, then go to
the DLQ. An error raised by the function itself is not a delivery failure: Lambda's own asynchronous
retries apply (two, see FunctionRuntime.invoke_event) and the event never reaches the rule's DLQ, as on
AWS. The DLQ message is the event, with the attributes AWS sets: RULE_ARN, TARGET_ARN, ERROR_CODE,
ERROR_MESSAGE, and for exhausted retries EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS.

The local back-off starts at RETRY_BASE_SECONDS and doubles up to RETRY_MAX_SECONDS (AWS's own schedule
is not published; it spreads 185 attempts over 24 hours).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.awslambda.workers import FunctionNotFound, FunctionRuntime
from infra.core.aws import Endpoints
from infra.core.clients import local_client
from infra.events.input import InputError, target_input
from infra.events.models import EventRuleSpec

log = logging.getLogger("infra.events")

DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86400
RETRY_BASE_SECONDS = 0.5
RETRY_MAX_SECONDS = 60.0
_NOT_FOUND_CODES = {
    "ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
    "StateMachineDoesNotExist", "NotFound", "NotFoundException",
}  # fmt: skip


class DeliveryError(Exception):
    def __init__(self, code: str, message: str, *, retriable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retriable = retriable


@dataclass(frozen=True)
class AwsClients:
    sqs: Any
    stepfunctions: Any
    events: Any
    sns: Any

    @classmethod
    def create(cls, endpoints: Endpoints) -> AwsClients:
        def client(service: str) -> Any:
            # Local services answer fast or not at all: fail quickly and let the retry policy decide.
            return local_client(
                service, endpoints.moto, endpoints.region,
                connect_timeout=2, read_timeout=30, retries={"max_attempts": 1}, max_pool_connections=32,
            )  # fmt: skip

        return cls(client("sqs"), client("stepfunctions"), client("events"), client("sns"))


class TargetDelivery:
    """Sends events to targets; blocking SDK calls run on its own small thread pool."""

    def __init__(self, runtime: FunctionRuntime, clients: AwsClients, executor: ThreadPoolExecutor) -> None:
        self.runtime = runtime
        self.clients = clients
        self.executor = executor
        self._queue_urls: dict[str, str] = {}

    async def _call(self, function: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: function(**kwargs))

    async def deliver(self, rule: EventRuleSpec, target: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        """Deliver with retries; never raises (a lost event is logged, or written to the DLQ)."""
        policy = target.get("RetryPolicy") or {}
        max_attempts = int(policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS))
        began = time.monotonic()
        try:
            payload = target_input(target, event, rule.name, rule.arn)
        except InputError as error:
            await self._dead_letter(rule, target, event, DeliveryError("INPUT_TRANSFORMATION_ERROR", str(error),
                                                                       retriable=False), None)  # fmt: skip
            return
        retries = 0
        while True:
            try:
                await self._send(target, payload, event)
                log.debug("%s -> %s: event %s delivered", rule.name, target.get("Id"), event.get("id"))
                return
            except DeliveryError as error:
                failure = error
            if not failure.retriable:
                await self._dead_letter(rule, target, event, failure, None)
                return
            delay = min(RETRY_BASE_SECONDS * 2**retries, RETRY_MAX_SECONDS)
            if retries >= max_attempts:
                await self._dead_letter(rule, target, event, failure, ("MaximumRetryAttempts", retries))
                return
            if time.monotonic() + delay - began > max_age:
                await self._dead_letter(rule, target, event, failure, ("MaximumEventAgeInSeconds", retries))
                return
            retries += 1
            log.warning(
                "%s -> %s: event %s not delivered (%s: %s); retry %d of %d in %.1f s",
                rule.name, target.get("Id"), event.get("id"), failure.code, failure.message, retries, max_attempts,
                delay,
            )  # fmt: skip
            await asyncio.sleep(delay)

    async def _send(self, target: Mapping[str, Any], payload: str, event: Mapping[str, Any]) -> None:
        arn = str(target.get("Arn", ""))
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        try:
            if service == "lambda":
                await self._invoke_function(arn, payload)
            elif service == "sqs":
                await self._send_to_queue(arn, payload, target)
            elif service == "states":
                await self._call(
                    self.clients.stepfunctions.start_execution,
                    stateMachineArn=arn, name=str(uuid.uuid4()), input=payload,
                )  # fmt: skip
            elif service == "events" and ":event-bus/" in arn:
                await self._put_on_bus(arn, event)
            elif service == "sns":
                await self._call(self.clients.sns.publish, TopicArn=arn, Message=payload)
            else:
                raise DeliveryError("UNSUPPORTED_TARGET", f"targets like {arn} are not delivered locally",
                                    retriable=False)  # fmt: skip
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            message = str(error.response.get("Error", {}).get("Message", error))
            if code in _NOT_FOUND_CODES or "does not exist" in message.lower():
                raise DeliveryError("RESOURCE_NOT_FOUND", message, retriable=False) from error
            throttled = code in {"ThrottlingException", "TooManyRequestsException"}
            raise DeliveryError("THROTTLING" if throttled else "SDK_CLIENT_ERROR", message, retriable=True) from error
        except BotoCoreError as error:
            raise DeliveryError("SDK_CLIENT_ERROR", str(error), retriable=True) from error

    async def _invoke_function(self, arn: str, payload: str) -> None:
        try:
            spec = self.runtime.resolve(arn)
        except FunctionNotFound:
            raise DeliveryError("RESOURCE_NOT_FOUND", f"Function not found: {arn}", retriable=False) from None
        if spec.reserved_concurrency == 0:
            raise DeliveryError("THROTTLING", "Rate Exceeded. (reserved concurrency is 0)", retriable=True)
        # Like Invoke with InvocationType=Event: Lambda queues the event and owns its retries from here.
        await self.runtime.invoke_event(arn, payload.encode())  # its qualifier too: an alias runs its version

    async def queue_url(self, arn: str) -> str:
        url = self._queue_urls.get(arn)
        if url is None:
            parts = arn.split(":")
            response = await self._call(
                self.clients.sqs.get_queue_url, QueueName=parts[5], QueueOwnerAWSAccountId=parts[4]
            )
            url = self._queue_urls[arn] = str(response["QueueUrl"])
        return url

    async def _send_to_queue(self, arn: str, payload: str, target: Mapping[str, Any]) -> None:
        request: dict[str, Any] = {"QueueUrl": await self.queue_url(arn), "MessageBody": payload}
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            request["MessageGroupId"] = str(group)
        await self._call(self.clients.sqs.send_message, **request)

    async def _put_on_bus(self, arn: str, event: Mapping[str, Any]) -> None:
        entry = {
            "EventBusName": arn, "Source": event.get("source", ""), "DetailType": event.get("detail-type", ""),
            "Detail": json.dumps(event.get("detail", {})), "Resources": list(event.get("resources", [])),
        }  # fmt: skip
        response = await self._call(self.clients.events.put_events, Entries=[entry])
        if response.get("FailedEntryCount"):
            failed = response["Entries"][0]
            raise DeliveryError(str(failed.get("ErrorCode")), str(failed.get("ErrorMessage")), retriable=True)

    async def _dead_letter(
        self,
        rule: EventRuleSpec,
        target: Mapping[str, Any],
        event: Mapping[str, Any],
        failure: DeliveryError,
        exhausted: tuple[str, int] | None,
    ) -> None:
        dlq_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        target_arn = str(target.get("Arn", ""))
        if not dlq_arn:
            log.error(
                "%s -> %s: event %s dropped (%s: %s); the target has no DeadLetterConfig",
                rule.name, target_arn, event.get("id"), failure.code, failure.message,
            )  # fmt: skip
            return
        attributes = {
            "RULE_ARN": rule.arn, "TARGET_ARN": target_arn, "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message[:1000],
        }  # fmt: skip
        if exhausted is not None:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted[0]
            attributes["RETRY_ATTEMPTS"] = str(exhausted[1])
        try:
            await self._call(
                self.clients.sqs.send_message,
                QueueUrl=await self.queue_url(str(dlq_arn)),
                MessageBody=json.dumps(event),
                MessageAttributes={key: {"DataType": "String", "StringValue": v} for key, v in attributes.items()},
            )
        except (ClientError, BotoCoreError) as error:
            log.error("%s: could not write event %s to its DLQ %s: %s", rule.name, event.get("id"), dlq_arn, error)
            return
        log.warning(
            "%s -> %s: event %s sent to the DLQ (%s: %s)", rule.name, target_arn, event.get("id"), failure.code,
            failure.message,
        )  # fmt: skip
