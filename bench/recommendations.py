"""Recommendations: the job's runtime at RECS_BENCH_EVENTS synthetic events (default 100,000; 1,000,000
allowed), the lake writer's throughput, and the API's latency against a bare GetItem of the row it reads.

    python -m bench.recommendations           (RECS_BENCH_EVENTS=1000000 python -m bench.recommendations)

- items: the synthetic world's items (jobs/synthetic.py) are listed through POST /items, so the answers are
  corrected against real Items and Inventory rows (an item not on sale would be dropped and the answer empty);
  the synthetic ids are mapped to the listed ones.
- lake write: the events, as the bus delivers them (behaviour envelopes; purchases as OrderConfirmed), through
  shop.recommendations.lake.Lake.write_batch in batches of 1,000 (the lake writer's BatchSize) into the
  cloud's S3: events per second, and the objects and bytes it wrote.
- job: `make recs`'s code (jobs.local.recs: copy the lake, Spark local[2], load the version, move the
  pointer): wall time, split into its parts as the job reports them.
- API (per repeat, interleaved): GET /items/{itemId}/related of a planted item and GET /recommendations/home
  (anonymous: trending) against a bare boto3 GetItem of the Recommendations row each reads first (the
  pointer, then the item's RELATED row), REQUESTS sequential requests each. The median repeat is reported.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.stats import p50_p99, timed_ms
from infra.launcher import ROOT, RunningCloud, launch

EVENTS_VARIABLE = "RECS_BENCH_EVENTS"
DEFAULT_EVENTS, LARGEST_EVENTS = 100_000, 1_000_000
BATCH = 1000
REQUESTS = 300


def _events() -> int:
    events = int(os.environ.get(EVENTS_VARIABLE, str(DEFAULT_EVENTS)))
    if not 10_000 <= events <= LARGEST_EVENTS:
        raise SystemExit(f"{EVENTS_VARIABLE} must be between 10,000 and {LARGEST_EVENTS:,}")
    return events


def _list_items(api: httpx.Client, world: Any) -> dict[str, str]:
    """List every synthetic item through the API; synthetic id -> listed id."""
    email = f"bench-recs-{uuid.uuid4().hex[:10]}@example.com"
    api.post("/auth/register", json={"email": email, "password": "Bench-Passw0rd1", "name": "Bench", "role": "seller"})
    token = api.post("/auth/login", json={"email": email, "password": "Bench-Passw0rd1"}).json()["accessToken"]
    synthetic_ids = [world.item(c, i) for c in range(world.categories) for i in range(world.items_per_category)]

    def create(synthetic_id: str) -> tuple[str, str]:
        body = {"name": f"Bench {synthetic_id}", "description": "A benchmark item", "price": 1500,
                "quantity": 1000, "category": world.category_of(synthetic_id)}  # fmt: skip
        with httpx.Client(base_url=str(api.base_url), timeout=60) as client:
            created = client.post("/items", json=body, headers={"Authorization": f"Bearer {token}"})
        created.raise_for_status()
        return synthetic_id, str(created.json()["itemId"])

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(create, synthetic_ids))


def _envelopes(rows: list[dict[str, Any]], listed: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The rows as the bus delivers them to the lake writer."""
    for row in rows:
        item = listed.get(row["itemId"], row["itemId"]) if row["itemId"] else None
        at = row["occurredAt"].isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if row["eventType"] == "Purchased":
            yield {"id": row["eventId"], "type": "OrderConfirmed", "version": 1, "occurredAt": at,
                   "source": "shop.orders", "data": {"orderId": row["orderId"], "userId": row["userId"],
                                                     "lines": [{"itemId": item, "quantity": 1}]}}  # fmt: skip
        else:
            data = {"schemaVersion": 1, "userId": row["userId"], "itemId": item, "category": row["category"],
                    "term": row["term"], "quantity": row["quantity"]}  # fmt: skip
            yield {"id": row["eventId"], "type": row["eventType"], "version": 1, "occurredAt": at,
                   "source": "shop.behaviour", "data": data}  # fmt: skip


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = call()
    return result, time.perf_counter() - began


def run(workdir: Path, repeats: int) -> list[str]:
    total = _events()
    began = time.monotonic()
    sys.path.insert(0, str(ROOT / "layers" / "shop" / "python"))
    from jobs import local, synthetic
    from jobs import recommendations as job
    from shop.recommendations.lake import Lake

    world = synthetic.scaled(total)
    rows = list(synthetic.generate(world))
    cloud = launch(workdir, overrides=["ThrottlingRateLimit=1000000", "ThrottlingBurstLimit=1000000",
                                       "EdgeProtection=false"])  # fmt: skip
    try:
        outputs, environment = cloud.state["outputs"], cloud.state["environment"]
        api_url = cloud.state["endpoints"]["api"]
        with httpx.Client(base_url=api_url, timeout=60) as api:
            listed, listing_s = _timed(lambda: _list_items(api, world))
        # In time order, as the bus delivers them: a batch then spans an hour or two, not the whole month.
        envelopes = sorted(_envelopes(rows, listed), key=lambda envelope: envelope["occurredAt"])
        lake = Lake(cloud.client("s3"), outputs["BehaviourLakeBucketName"])
        written = 0

        def write_all() -> None:
            nonlocal written
            for start in range(0, len(envelopes), BATCH):
                written += lake.write_batch(envelopes[start : start + BATCH]).objects

        _, write_s = _timed(write_all)
        _, compact_s = _timed(lake.compact_all)
        spark, session_s = _timed(lambda: job.session("local[2]", app_name="bench"))
        try:
            result, job_s = _timed(lambda: local.recs(outputs, environment, spark=spark))
        finally:
            spark.stop()
        latencies = _api(cloud, outputs, listed, world, repeats)
    finally:
        cloud.stop()
    measured = {"total": total, "rows": len(rows), "items": len(listed), "listing_s": listing_s, "write_s": write_s,
                "objects": written, "compact_s": compact_s, "session_s": session_s, "job_s": job_s,
                "job_rows": result["rows"], "seconds": time.monotonic() - began}  # fmt: skip
    return _render(measured, latencies, repeats)


def _api(cloud: RunningCloud, outputs: dict[str, str], listed: dict[str, str], world: Any,
         repeats: int) -> dict[str, tuple[float, float]]:  # fmt: skip
    from jobs import synthetic

    api_url, table = cloud.state["endpoints"]["api"], outputs["RecommendationsTableName"]
    dynamodb = cloud.client("dynamodb")
    version = dynamodb.get_item(TableName=table, Key={"pk": {"S": "POINTER"}, "sk": {"S": "CURRENT"}})["Item"]
    version_id = version["version"]["S"]
    planted = listed[synthetic.bought_pair(world, 0, 0)[0]]
    client = httpx.Client(base_url=api_url, timeout=30)

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(path)
            if response.status_code != 200 or not response.json()["items"]:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
            return response

        return call

    def bare(pk: str, sk: str) -> Callable[[], object]:
        return lambda: dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})

    cases = {
        "GET /items/{id}/related (planted item)": get(f"/items/{planted}/related"),
        "bare GetItem of its RELATED row": bare(f"{version_id}#item#{planted}", "RELATED"),
        "GET /recommendations/home (anonymous: trending)": get("/recommendations/home"),
        "bare GetItem of the TRENDING row": bare(f"{version_id}#trending#*", "TRENDING"),
    }
    for call in cases.values():  # warm the worker and the connection
        timed_ms(call, 20)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, call in cases.items():
            runs[name].append(p50_p99(timed_ms(call, REQUESTS)))
    return {name: sorted(samples)[len(samples) // 2] for name, samples in runs.items()}


def _render(m: dict[str, Any], latencies: dict[str, tuple[float, float]], repeats: int) -> list[str]:
    total, rows, write_s = m["total"], m["rows"], m["write_s"]
    lines = [
        f"Command: `RECS_BENCH_EVENTS={total} python -m bench.recommendations` (bench/recommendations.py); "
        f"{rows:,} synthetic events (jobs/synthetic.py) over {m['items']:,} items listed through POST /items "
        f"({m['listing_s']:.0f} s); {m['seconds']:.0f} s in all. Spark local[2] on the same 2 shared cores.",
        "",
        "| step | measured |",
        "|---|---|",
        f"| lake write (Lake.write_batch, batches of {BATCH:,}, into the cloud's S3) | {write_s:.1f} s: "
        f"{rows / write_s:,.0f} events/s, {m['objects']:,} objects |",
        f"| compaction of every hour | {m['compact_s']:.1f} s |",
        f"| Spark session start (JVM) | {m['session_s']:.1f} s |",
        f"| job: copy the lake, build, load {m['job_rows']:,} rows, move the pointer | {m['job_s']:.1f} s |",
        "",
        f"API, median of {repeats} repeats of {REQUESTS} sequential requests:",
        "",
        "| case | p50 ms | p99 ms |",
        "|---|---|---|",
        *(f"| {name} | {p50:.2f} | {p99:.2f} |" for name, (p50, p99) in latencies.items()),
    ]
    related, bare = latencies["GET /items/{id}/related (planted item)"], latencies["bare GetItem of its RELATED row"]
    lines += ["", f"GET /items/{{id}}/related p50 is {related[0] / bare[0]:.1f} times the bare GetItem's "
                  "(the gateway, the function, the pointer read, the item read and the corrections' two batch reads)."]
    print(json.dumps({"events": rows, "job_s": m["job_s"], "write_s": write_s}), flush=True)
    return lines


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print("\n".join(run(Path(directory), int(os.environ.get("RECS_BENCH_REPEATS", "3")))))
