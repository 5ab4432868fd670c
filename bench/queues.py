"""S3 and SQS delivery latency: from the client's call until the function's handler starts.

- S3: PutObject (one at a time, paced) -> moto's notification -> the internal queue -> Event invoke.
- SQS: SendMessage (one at a time, paced) -> a poller's long poll -> the batch invoke.
- Baseline, on the same cloud and the same S3 recorder function: the Lambda Invoke API with
  InvocationType=Event, which is the hand-off S3 itself makes; the difference is the cost of the
  notification path.

The handlers write their start time (time.time(), same machine clock) to a DynamoDB table with each
record; the sender's clock is read just before each call. Sends are paced (PACE_SECONDS apart) so that
the numbers are latencies, not queueing behind a backlog.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.stats import percentile
from infra.launcher import ROOT, launch

TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "queues_bench.yaml"
UPLOADS = 100
MESSAGES = 200
INVOKES = 100
PACE_SECONDS = 0.02
S3_TARGET_P50_MS = 250.0


class _Recorded:
    """The Received table, read until every expected id has a start time."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb, self.table = dynamodb, table

    def started(self, ids: dict[str, float], id_of: Callable[[dict[str, Any]], str | None]) -> list[float]:
        latencies: dict[str, float] = {}
        deadline = time.monotonic() + 30
        while len(latencies) < len(ids) and time.monotonic() < deadline:
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.table):
                for item in page["Items"]:
                    row = {key: next(iter(value.values())) for key, value in item.items()}
                    key = id_of(row)
                    if key in ids and key not in latencies:
                        latencies[key] = (float(row["startedAt"]) - ids[key]) * 1000
            time.sleep(0.2)
        if len(latencies) < len(ids):
            raise RuntimeError(f"only {len(latencies)} of {len(ids)} deliveries arrived in 30 s")
        return list(latencies.values())


def _paced(count: int, send: Callable[[str], None]) -> dict[str, float]:
    sent: dict[str, float] = {}
    for _ in range(count):
        marker = uuid.uuid4().hex
        sent[marker] = time.time()
        send(marker)
        time.sleep(PACE_SECONDS)
    return sent


def run(workdir: Path, repeats: int) -> list[str]:
    cloud = launch(workdir / "queues", extra_args=["--template", str(TEMPLATE)])
    try:
        outputs = cloud.state["outputs"]
        s3 = cloud.client("s3")
        sqs = cloud.client("sqs")
        lambda_api = cloud.client("lambda")
        recorded = _Recorded(cloud.client("dynamodb"),
                             outputs["ReceivedTableName"])  # fmt: skip
        bucket, queue_url = outputs["BucketName"], outputs["WorkQueueUrl"]

        def by_key(row: dict[str, Any]) -> str | None:
            return str(row["key"]).rsplit("/", 1)[-1] if "key" in row else None

        def by_body(row: dict[str, Any]) -> str | None:
            return str(json.loads(row["body"]).get("marker")) if "body" in row else None

        def s3_put(marker: str) -> None:
            s3.put_object(Bucket=bucket, Key=f"uploads/{marker}", Body=b"x" * 1024)

        def sqs_send(marker: str) -> None:
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"marker": marker}))

        def invoke(marker: str) -> None:
            event = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": f"direct/{marker}"}}}]}
            lambda_api.invoke(FunctionName="UploadFunction", InvocationType="Event", Payload=json.dumps(event))

        cases: dict[str, tuple[int, Callable[[str], None], Callable[[dict[str, Any]], str | None]]] = {
            "baseline: Lambda Invoke (Event) -> handler start": (INVOKES, invoke, by_key),
            "S3 PutObject -> handler start": (UPLOADS, s3_put, by_key),
            "SQS SendMessage -> handler start": (MESSAGES, sqs_send, by_body),
        }
        for _count, send, id_of in cases.values():  # warm: connections, workers, pollers
            recorded.started(_paced(3, send), id_of)
        results: dict[str, tuple[float, float]] = {}
        for name, (count, send, id_of) in cases.items():
            runs = [recorded.started(_paced(count, send), id_of) for _ in range(repeats)]
            results[name] = (
                statistics.median(percentile(samples, 0.5) for samples in runs),
                statistics.median(percentile(samples, 0.99) for samples in runs),
            )
    finally:
        cloud.stop()
    baseline_p50 = results["baseline: Lambda Invoke (Event) -> handler start"][0]
    s3_p50 = results["S3 PutObject -> handler start"][0]
    lines = [
        "### S3 notifications and SQS event source mappings",
        "",
        f"Latency from the client's call until the handler starts; {UPLOADS} uploads, {MESSAGES} messages and "
        f"{INVOKES} direct invokes, one every {PACE_SECONDS * 1000:.0f} ms; median of {repeats} runs "
        "(`python -m bench --only queues`).",
        "",
        "| case | p50 ms | p99 ms | p50 / baseline |",
        "|---|---|---|---|",
        *(f"| {name} | {p50:.1f} | {p99:.1f} | {p50 / baseline_p50:.1f}x |" for name, (p50, p99) in results.items()),
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| S3 upload -> function start p50 <= {S3_TARGET_P50_MS:.0f} ms | {s3_p50:.1f} ms | "
        f"{'met' if s3_p50 <= S3_TARGET_P50_MS else 'NOT met'} |",
    ]
    return lines
