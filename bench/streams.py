"""DynamoDB Streams delivery: write -> function start latency, and TTL expiry -> consumer latency.

The cloud runs tests/fixtures/templates/services.yaml (the infra tests' stack); its TtlTable has a stream
and TTL, read by a recorder function (TRIM_HORIZON, BatchSize 100, no batching window) that logs each
record with the time its invocation started. Writes are spaced (one every 20 ms) so each latency is that
of an idle poller, the case the target is about. The baseline, measured on the same writes, is DynamoDB Local itself: a
reader in this process polling GetRecords every 5 ms records when each record first becomes readable.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.stats import percentile
from infra.core.clients import sdk_client
from infra.launcher import ROOT, launch

TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "services.yaml"
WRITES = 200
SPACING_SECONDS = 0.02
TTL_ITEMS = 30
TARGET_P50_MS = 250.0


class _Bench:
    def __init__(self, state: dict[str, Any]) -> None:
        self.dynamodb = sdk_client("dynamodb", state["environment"])
        self.streams = sdk_client("dynamodbstreams", state["environment"])
        self.table = state["outputs"]["TtlTableName"]
        self.log_table = state["outputs"]["LogTableName"]

    def log(self, run: str) -> list[tuple[float, dict[str, Any]]]:
        """(time the function received it, record) for every record of this run the recorder logged."""
        entries: list[tuple[float, dict[str, Any]]] = []
        request: dict[str, Any] = {
            "TableName": self.log_table, "KeyConditionExpression": "pk = :run",
            "ExpressionAttributeValues": {":run": {"S": run}},
        }  # fmt: skip
        while True:
            page = self.dynamodb.query(**request)
            entries += [(float(item["receivedAt"]["N"]), json.loads(item["record"]["S"])) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return entries
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def received(self, run: str, expected: int, *, removals: bool = False, timeout: float = 30) -> dict[str, float]:
        """pk -> when the function received its INSERT (or its TTL REMOVE), once `expected` keys arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, float] = {}
            for received_at, record in self.log(run):
                ttl_removal = record["eventName"] == "REMOVE" and "userIdentity" in record
                if ttl_removal == removals:
                    found.setdefault(record["dynamodb"]["Keys"]["pk"]["S"], received_at)
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def stream_latency(self, repeat: int) -> tuple[list[float], list[float]]:
        """(write -> function start, write -> readable in GetRecords) in ms, for WRITES spaced writes."""
        run = f"lat{repeat}-{uuid.uuid4().hex[:8]}"
        arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        open_shard = next(s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"])
        iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=open_shard["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]
        seen: dict[str, float] = {}
        stop = threading.Event()

        def baseline_reader() -> None:
            nonlocal iterator
            while not stop.is_set() and iterator:
                response = self.streams.get_records(ShardIterator=iterator)
                now = time.time()
                iterator = response.get("NextShardIterator")
                for record in response["Records"]:
                    seen.setdefault(record["dynamodb"]["Keys"]["pk"]["S"], now)
                time.sleep(0.005)

        reader = threading.Thread(target=baseline_reader, daemon=True)
        reader.start()
        written: dict[str, float] = {}
        for n in range(WRITES):
            key = f"{run}#{n}"
            written[key] = time.time()
            self.dynamodb.put_item(TableName=self.table, Item={"pk": {"S": key}})
            time.sleep(SPACING_SECONDS)
        received = self.received(run, WRITES)
        stop.set()
        reader.join(5)
        delivered = [(received[key] - at) * 1000 for key, at in written.items() if key in received]
        readable = [(seen[key] - at) * 1000 for key, at in written.items() if key in seen]
        if len(delivered) < WRITES:
            raise RuntimeError(f"only {len(delivered)} of {WRITES} records reached the function")
        return delivered, readable

    def ttl_latency(self) -> list[float]:
        """Expiry moment -> the TTL REMOVE record reaching the consumer, in ms."""
        run = f"ttl-{uuid.uuid4().hex[:8]}"
        base = int(time.time()) + 2
        expiry: dict[str, int] = {}
        for n in range(TTL_ITEMS):
            key = f"{run}#{n}"
            expiry[key] = base + n // 10  # three whole seconds, as real TTL values are
            self.dynamodb.put_item(TableName=self.table, Item={"pk": {"S": key}, "expiresAt": {"N": str(expiry[key])}})
        removals = self.received(run, TTL_ITEMS, removals=True)
        return [(removals[key] - expiry[key]) * 1000 for key in expiry if key in removals]


def run(workdir: Path, repeats: int) -> list[str]:
    cloud = launch(workdir, extra_args=["--template", str(TEMPLATE)])
    try:
        bench = _Bench(cloud.state)
        bench.dynamodb.put_item(TableName=bench.table, Item={"pk": {"S": "warmup#0"}})
        bench.received("warmup", 1)
        runs = [bench.stream_latency(repeat) for repeat in range(max(repeats, 1))]
        ttl = bench.ttl_latency()
    finally:
        cloud.stop()
    # The median run by p50 of delivery, with the baseline measured on the same writes.
    delivered, readable = sorted(runs, key=lambda pair: statistics.median(pair[0]))[len(runs) // 2]
    p50, p99 = statistics.median(delivered), percentile(delivered, 0.99)
    base50, base99 = statistics.median(readable), percentile(readable, 0.99)
    lines = [
        "### DynamoDB Streams -> function (bench/streams.py)",
        "",
        f"{WRITES} PutItems one every {SPACING_SECONDS * 1000:.0f} ms, median of {len(runs)} run(s); TTL: "
        f"{TTL_ITEMS} items with whole-second expiry, sweeper every 1 s.",
        "",
        "| case | p50 ms | p99 ms |",
        "|---|---|---|",
        f"| baseline: write -> readable in GetRecords (5 ms poller in the bench) | {base50:.1f} | {base99:.1f} |",
        f"| write -> function start (event source mapping) | {p50:.1f} | {p99:.1f} |",
    ]
    if ttl:
        lines.append(
            f"| TTL expiry -> REMOVE at the consumer (informational) | {statistics.median(ttl):.0f} | "
            f"{percentile(ttl, 0.99):.0f} |"
        )
    lines += [
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| stream record -> function start p50 ≤ {TARGET_P50_MS:.0f} ms | {p50:.1f} ms ({p50 - base50:+.1f} ms over "
        f"the baseline) | {'met' if p50 <= TARGET_P50_MS else 'missed'} |",
    ]
    return lines


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print("\n".join(run(Path(directory), int(sys.argv[1]) if len(sys.argv) > 1 else 1)))
