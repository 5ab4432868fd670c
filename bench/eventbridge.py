"""EventBridge delivery latency: PutEvents -> rule -> Lambda target, until the handler starts.

Baselines measured in the same run, on the same cloud and function:
- the Lambda Invoke API with InvocationType=Event (the hand-off EventBridge itself makes), until the
  handler starts: the difference is the cost of routing (moto PutEvents, the router queue, matching);
- PutEvents -> rule -> SQS target, until the message is in the queue (its SentTimestamp, 1 ms resolution).

Events are sent one at a time (each waits for its delivery), so the numbers are latencies, not throughput.
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

TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "services.yaml"  # the infra tests' stack
EVENTS = 200


def _wait(sqs: Any, url: str, marker: str, attribute: Callable[[dict[str, Any], dict[str, Any]], float]) -> float:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
        ).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            body = json.loads(message["Body"])
            if marker in message["Body"]:
                return attribute(body, message)
    raise RuntimeError(f"event {marker} was not delivered in 10 s")


def run(workdir: Path, repeats: int) -> list[str]:
    cloud = launch(workdir / "eventbridge", extra_args=["--template", str(TEMPLATE)])
    try:
        outputs = cloud.state["outputs"]
        events = cloud.client("events")
        sqs = cloud.client("sqs")
        lambda_api = cloud.client("lambda")
        started_at: Callable[[dict[str, Any], dict[str, Any]], float] = lambda body, _m: float(body["startedAt"])  # noqa: E731
        sent_at: Callable[[dict[str, Any], dict[str, Any]], float] = (  # noqa: E731
            lambda _b, message: int(message["Attributes"]["SentTimestamp"]) / 1000
        )

        def via_rule() -> float:
            marker = uuid.uuid4().hex
            began = time.time()
            detail = json.dumps({"total": 200, "m": marker})  # matches the fixture's Orders rule (Lambda target)
            events.put_events(Entries=[{"EventBusName": outputs["EventsBusName"], "Source": "shop.bench",
                                        "DetailType": "OrderCreated", "Detail": detail}])  # fmt: skip
            return _wait(sqs, outputs["RecordQueueUrl"], marker, started_at) - began

        def direct() -> float:
            marker = uuid.uuid4().hex
            began = time.time()
            lambda_api.invoke(FunctionName="Recorder", InvocationType="Event", Payload=json.dumps({"m": marker}))
            return _wait(sqs, outputs["RecordQueueUrl"], marker, started_at) - began

        def to_queue() -> float:
            marker = uuid.uuid4().hex
            began = time.time()
            detail = json.dumps({"op": "exists", "m": marker})
            events.put_events(Entries=[{"EventBusName": outputs["EventsBusName"], "Source": "test.ops",
                                        "DetailType": "B", "Detail": detail}])  # fmt: skip
            return _wait(sqs, outputs["SqsTargetQueueUrl"], marker, sent_at) - began

        series: dict[str, list[list[float]]] = {"rule": [], "direct": [], "sqs": []}
        for _ in range(max(repeats, 1)):
            for name, probe in (("direct", direct), ("rule", via_rule), ("sqs", to_queue)):
                for _ in range(10):  # warm-up: connections, the function's worker
                    probe()
                series[name].append([probe() * 1000 for _ in range(EVENTS)])
    finally:
        cloud.stop()

    def median_run(name: str) -> tuple[float, float]:
        runs = sorted(series[name], key=statistics.median)
        chosen = runs[len(runs) // 2]
        return percentile(chosen, 0.5), percentile(chosen, 0.99)

    rule, direct_, sqs_ = median_run("rule"), median_run("direct"), median_run("sqs")
    overhead = rule[0] - direct_[0]
    return [
        "### EventBridge: PutEvents -> rule -> Lambda target (handler start)",
        "",
        f"{EVENTS} events one at a time, median of {max(repeats, 1)} run(s); `python -m bench` (bench/eventbridge.py).",
        "",
        "| path | p50 ms | p99 ms |",
        "|---|---|---|",
        f"| PutEvents -> rule -> Lambda target, until the handler starts | {rule[0]:.1f} | {rule[1]:.1f} |",
        f"| baseline: Lambda Invoke (Event), until the handler starts | {direct_[0]:.1f} | {direct_[1]:.1f} |",
        f"| baseline: PutEvents -> rule -> SQS target, message sent | {sqs_[0]:.1f} | {sqs_[1]:.1f} |",
        "",
        f"Verdict: routing adds {overhead:.1f} ms at p50 over a direct asynchronous invoke "
        f"({rule[0] / max(direct_[0], 0.01):.1f}x); target: under 50 ms p50 — "
        f"{'met' if rule[0] < 50 else 'NOT met'}.",
    ]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print("\n".join(run(Path(directory), 1)))
