"""S3 bucket notifications to functions: each object a bucket's configuration names invokes the function.

moto 5.2.5 raises S3 notifications itself (PutObject, presigned PUT and POST, CopyObject,
CompleteMultipartUpload, DeleteObject), but it can only deliver Lambda notifications to its own Lambda
backend. So at start the bucket's configuration is put into moto with every LambdaConfiguration turned
into a QueueConfiguration (same events, same key filters) on an internal queue per bucket,
`local-s3-events-<bucket>`; this component long-polls that queue (infra.core.poller) and invokes the
configured function with the Event invocation type, one record per invocation, as S3 does. The
template's own Queue and Topic configurations and EventBridgeConfiguration are put into moto alongside,
so they are delivered too.

What moto 5.2.5 gets wrong, corrected here (version-pinned; re-check when upgrading moto):
- it encodes '/' in object keys (`quote_plus` with no safe characters); AWS keeps '/' and writes
  spaces as '+', so keys are decoded and re-encoded with '/' kept;
- CompleteMultipartUpload also emits an `ObjectCreated:Put` record for the same object (its internal
  put_object call notifies): a Put record whose eTag has the multipart form `<md5>-<parts>` is dropped,
  since no PutObject produces such an eTag;
- its records lack userIdentity, requestParameters, responseElements, bucket.ownerIdentity and
  object.sequencer, which are added with local values.
The first message on the queue is S3's `s3:TestEvent`, which is skipped.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote_plus

from infra.awslambda.models import function_reference
from infra.awslambda.workers import FunctionNotFound
from infra.core.aws import ACCOUNT_ID
from infra.core.clients import local_client
from infra.core.poller import INTERNAL_POLL_SECONDS, QueuePoller
from infra.s3.models import BucketNotificationSpec

if TYPE_CHECKING:
    from infra.awslambda.workers import FunctionRuntime
    from infra.core.aws import Endpoints
    from infra.core.components import Component

log = logging.getLogger("infra.s3")

INTERNAL_ID_PREFIX = "local-lambda-"
OWNER_ID = "A3NL1KOZZKEXAMPLE"  # what AWS shows as the bucket owner's canonical principal; local constant
PRINCIPAL_ID = "AWS:AIDAIT2UOQQY3AUEKVGXU"  # moto's default caller (the SenderId it puts on SQS messages)
_MULTIPART_ETAG = re.compile(r"^[0-9a-fA-F]{32}-\d+$")
_sequence = itertools.count()


def internal_queue_name(bucket: str) -> str:
    name = "local-s3-events-" + re.sub(r"[^A-Za-z0-9_-]", "-", bucket)
    if len(name) > 80:  # SQS's limit; keep it unique with a digest of the full bucket name
        name = name[:71] + "-" + hashlib.sha256(bucket.encode()).hexdigest()[:8]
    return name


def _filter(cfn_filter: dict[str, Any] | None) -> dict[str, Any] | None:
    """CloudFormation's Filter.S3Key.Rules to the API's Filter.Key.FilterRules."""
    rules = ((cfn_filter or {}).get("S3Key") or {}).get("Rules") or []
    if not rules:
        return None
    return {"Key": {"FilterRules": [{"Name": str(r["Name"]).lower(), "Value": str(r["Value"])} for r in rules]}}


def _configuration_id(spec: BucketNotificationSpec, index: int, given: Any) -> str:
    # Without an Id AWS generates one (a base64 string); a stable one keeps events comparable across runs.
    if given:
        return str(given)
    return base64.b64encode(str(uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.bucket}/{index}")).encode()).decode()


def _api_item(cfn_item: dict[str, Any], target: str, arn: str) -> dict[str, Any]:
    item: dict[str, Any] = {target: arn, "Events": [str(cfn_item["Event"])]}
    if cfn_item.get("Id"):
        item["Id"] = str(cfn_item["Id"])
    key_filter = _filter(cfn_item.get("Filter"))
    if key_filter:
        item["Filter"] = key_filter
    return item


def moto_configuration(
    spec: BucketNotificationSpec, queue_arn: str
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The API NotificationConfiguration to put into moto, and internal Id -> (function ARN, configurationId)."""
    cfn = spec.configuration
    routes: dict[str, tuple[str, str]] = {}
    queues: list[dict[str, Any]] = []
    for index, cfn_item in enumerate(cfn.get("LambdaConfigurations") or []):
        internal_id = f"{INTERNAL_ID_PREFIX}{index}"
        routes[internal_id] = (str(cfn_item["Function"]), _configuration_id(spec, index, cfn_item.get("Id")))
        queues.append({**_api_item(cfn_item, "QueueArn", queue_arn), "Id": internal_id})
    queues += [_api_item(item, "QueueArn", str(item["Queue"])) for item in cfn.get("QueueConfigurations") or []]
    topics = [_api_item(item, "TopicArn", str(item["Topic"])) for item in cfn.get("TopicConfigurations") or []]
    api: dict[str, Any] = {}
    if queues:
        api["QueueConfigurations"] = queues
    if topics:
        api["TopicConfigurations"] = topics
    if (cfn.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (True, "true", "True"):
        api["EventBridgeConfiguration"] = {}
    return api, routes


def aws_record(record: dict[str, Any], configuration_id: str) -> dict[str, Any] | None:
    """moto's record as AWS writes it, or None for the duplicate Put of a multipart upload."""
    s3 = record["s3"]
    obj = s3["object"]
    if record.get("eventName") == "ObjectCreated:Put" and _MULTIPART_ETAG.match(str(obj.get("eTag", ""))):
        return None
    obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
    # A hex string that grows with every event (AWS: per key), so consumers can order events.
    obj.setdefault("sequencer", f"{time.time_ns() // 1000:014X}{next(_sequence) % 0x10000:04X}")
    s3["configurationId"] = configuration_id
    s3["bucket"].setdefault("ownerIdentity", {"principalId": OWNER_ID})
    record.setdefault("userIdentity", {"principalId": PRINCIPAL_ID})
    record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    record.setdefault(
        "responseElements",
        {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": base64.b64encode(uuid.uuid4().bytes).decode(),
        },
    )
    ordered = {key: record[key] for key in ("eventVersion", "eventSource", "awsRegion", "eventTime", "eventName")}
    ordered.update({key: value for key, value in record.items() if key not in ordered})
    return ordered


class BucketNotifications:
    """One bucket: its internal queue in moto, polled, each record invoking the function it is for."""

    def __init__(self, spec: BucketNotificationSpec, runtime: FunctionRuntime, moto_url: str, region: str) -> None:
        self.spec = spec
        self.runtime = runtime
        self.region = region
        self.name = f"s3 {spec.bucket} notifications"
        self._moto_url = moto_url
        self._routes: dict[str, tuple[str, str]] = {}
        self.poller = QueuePoller(
            self.name, self._deliver, log=log, thread_name=f"s3-{spec.bucket}", wait_seconds=INTERNAL_POLL_SECONDS
        )

    async def start(self) -> None:
        sqs, queue_url = await asyncio.to_thread(self._configure)
        if self._routes:
            self.poller.start(sqs, queue_url)
        functions = sorted({function_reference(arn) for arn, _ in self._routes.values()})
        log.info("%s: delivering to %s", self.name, ", ".join(functions) or "no function")

    def _configure(self) -> tuple[Any, str]:
        config = {
            "max_pool_connections": 10, "retries": {"max_attempts": 2}, "read_timeout": INTERNAL_POLL_SECONDS + 10,
        }  # fmt: skip
        sqs = local_client("sqs", self._moto_url, self.region, **config)
        s3 = local_client("s3", self._moto_url, self.region, **config)
        queue_name = internal_queue_name(self.spec.bucket)
        queue_url = str(sqs.create_queue(QueueName=queue_name)["QueueUrl"])
        queue_arn = f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{queue_name}"
        configuration, self._routes = moto_configuration(self.spec, queue_arn)
        s3.put_bucket_notification_configuration(Bucket=self.spec.bucket, NotificationConfiguration=configuration)
        return sqs, queue_url

    async def stop(self) -> None:
        # Invocations are handed to the runtime at once; a receive is cut short, a delete may finish, and
        # what stays in the internal queue dies with moto.
        await self.poller.stop()

    async def _deliver(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for message in messages:
            await self._dispatch(message["Body"])
        return messages

    async def _dispatch(self, body: str) -> None:
        try:
            event = json.loads(body)
        except ValueError:
            log.warning("%s: not an S3 event, ignored: %s", self.name, body[:200])
            return
        if event.get("Event") == "s3:TestEvent":
            return
        for record in event.get("Records", []):
            route = self._routes.get(record.get("s3", {}).get("configurationId", ""))
            if route is None:
                continue
            function_arn, configuration_id = route
            shaped = aws_record(record, configuration_id)
            if shaped is None:
                continue
            log.debug("%s: %s %s -> %s", self.name, shaped["eventName"], shaped["s3"]["object"]["key"], function_arn)
            try:
                await self.runtime.invoke_event(function_arn, json.dumps({"Records": [shaped]}).encode())
            except FunctionNotFound:
                log.error("%s: function %s is not in this stack; event dropped", self.name, function_arn)


def components(
    notifications: list[BucketNotificationSpec], runtime: FunctionRuntime, endpoints: Endpoints
) -> list[Component]:
    return [BucketNotifications(spec, runtime, endpoints.moto, endpoints.region) for spec in notifications]
