"""Replay of discarded stream batches: `python -m infra replay-archive` re-delivers to the order archiver
what its stream mapping gave up on, so a failing archiver loses nothing.

A stream mapping that exhausts its retries sends Lambda's failure record to its OnFailure destination (an
SQS queue): not the records, but where they are (DDBStreamBatchInfo: stream, shard, first and last sequence
numbers). The replay reads each such message, reads that range of the shard again (the stream keeps records
24 hours), turns the records into Lambda's record shape and invokes the function with them as the mapping
would have (the function checks each record again, as it does for the mapping). The message is deleted only
once the function took the whole batch; otherwise it stays for the next replay.

On AWS the records read back carry their userIdentity; DynamoDB Local's never do, so against the local
cloud the replay asks it which records were the TTL service's (GET /_local/ttl-deletions) and marks them
as the cloud's own stream poller does. Works against a deployed stack too (--stack-name / --stack-outputs).
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.core.clients import sdk_client
from infra.dynamodb.streams import STREAM_ARN, lambda_record
from infra.dynamodb.ttl import SERVICE_IDENTITY

log = logging.getLogger("infra.dynamodb")

ARCHIVE_QUEUE_OUTPUT = "OrderArchiveFailureQueueUrl"
ARCHIVER_OUTPUT = "OrderArchiverFunctionName"


@dataclass
class ReplayReport:
    batches: int = 0  # failure records read from the queue
    records: int = 0  # stream records re-delivered
    replayed: int = 0  # batches the function took (their messages deleted)
    failed: list[str] = field(default_factory=list)  # why the others stay on the queue

    def text(self) -> str:
        lines = [f"{self.batches} failed batch(es) on the queue, {self.records} record(s) re-delivered, "
                 f"{self.replayed} batch(es) replayed"]  # fmt: skip
        lines += [f"  kept on the queue: {reason}" for reason in self.failed]
        return "\n".join(lines)


def replay(
    outputs: Mapping[str, str], environment: Mapping[str, str], *, local_api: str | None = None
) -> ReplayReport:
    """Replay every failure record on the archiver's failure queue; `local_api` is the local cloud's gateway
    (None against AWS, whose records carry their userIdentity)."""
    sqs, streams, functions = (sdk_client(name, environment) for name in ("sqs", "dynamodbstreams", "lambda"))
    queue, function = outputs[ARCHIVE_QUEUE_OUTPUT], outputs[ARCHIVER_OUTPUT]
    report = ReplayReport()
    for message in _messages(sqs, queue):
        report.batches += 1
        info = json.loads(message["Body"])["DDBStreamBatchInfo"]
        records = list(_read_range(streams, info))
        if local_api is not None:
            _mark_ttl_deletions(records, local_api, _table_of(info["streamArn"]))
        report.records += len(records)
        failure = _invoke(functions, function, records)
        if failure is None:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            report.replayed += 1
        else:
            report.failed.append(f"{info['shardId']} {info['startSequenceNumber']}..: {failure}")
    return report


def _messages(sqs: Any, queue: str) -> Iterator[dict[str, Any]]:
    """Every message on the queue once: each stays invisible for the replay's run once received."""
    while True:
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=300).get("Messages", [])  # fmt: skip
        if not received:
            return
        yield from received


def _read_range(streams: Any, info: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The records from startSequenceNumber to endSequenceNumber of the shard, in Lambda's shape."""
    arn, last = info["streamArn"], int(info["endSequenceNumber"])
    region = STREAM_ARN.match(arn).group("region") if STREAM_ARN.match(arn) else ""  # type: ignore[union-attr]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=info["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]  # fmt: skip
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        for raw in response.get("Records", []):
            if int(raw["dynamodb"]["SequenceNumber"]) > last:
                return
            yield lambda_record(raw, arn, region)
        if not response.get("Records"):
            return  # caught up with the shard's end: nothing after the range was written yet
        iterator = response.get("NextShardIterator")


def _table_of(stream_arn: str) -> str:
    match = STREAM_ARN.match(stream_arn)
    return match.group("table") if match else ""


def _mark_ttl_deletions(records: list[dict[str, Any]], local_api: str, table: str) -> None:
    url = f"{local_api.rstrip('/')}/_local/ttl-deletions?{urllib.parse.urlencode({'table': table})}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local cloud's own URL
        service_events = set(json.load(response)["eventIds"])
    for record in records:
        if record["eventName"] == "REMOVE" and record["eventID"] in service_events:
            record["userIdentity"] = dict(SERVICE_IDENTITY)


def _invoke(functions: Any, function: str, records: list[dict[str, Any]]) -> str | None:
    """None when the function took every record, else what went wrong."""
    if not records:
        return None
    answer = functions.invoke(FunctionName=function, Payload=json.dumps({"Records": records}).encode())
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        return f"{answer['FunctionError']}: {payload[:300]!r}"
    response = json.loads(payload or b"null")
    if isinstance(response, dict) and response.get("batchItemFailures"):
        return f"{len(response['batchItemFailures'])} record(s) failed again"
    return None
