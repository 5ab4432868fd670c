"""Benchmarks of the local cloud, each reported as a ratio against a baseline measured in the same run.

    python -m bench [--requests 2000] [--repeats 3] [--cold-starts 3] [--output docs/benchmarks.md]

- GET /items/{id} through the gateway (HTTP -> JWT-free route -> worker -> powertools -> pynamodb GetItem
  + inventory Query) against a bare boto3 GetItem on the same DynamoDB Local, at concurrency 1 and 8.
- a no-op function through the gateway against GET /health, which the same gateway answers itself: the
  difference is the cost of invoking a function (event, worker round trip, response mapping).
- cold start: `python -m infra run` (with the demo catalog, as `make run`) until it prints `ready:`.

The machines are shared and noisy, so each measurement is repeated and the median run is reported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from infra.launcher import ROOT, RunningCloud, launch


@dataclass
class Latency:
    name: str
    p50_ms: float
    p99_ms: float
    throughput: float  # requests per second

    def row(self) -> str:
        return f"| {self.name} | {self.p50_ms:.2f} | {self.p99_ms:.2f} | {self.throughput:,.0f} |"


def measure(name: str, make_call: Callable[[], Callable[[], object]], requests: int, concurrency: int) -> Latency:
    """Run `requests` calls over `concurrency` threads, each thread with its own client (keep-alive)."""
    samples: list[float] = []
    lock = threading.Lock()
    per_thread = requests // concurrency

    def worker() -> None:
        call = make_call()
        for _ in range(20):  # warm the connection and the function's worker
            call()
        local = []
        for _ in range(per_thread):
            began = time.perf_counter()
            call()
            local.append((time.perf_counter() - began) * 1000)
        with lock:
            samples.extend(local)

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    elapsed = time.perf_counter() - began
    samples.sort()
    return Latency(
        name,
        statistics.median(samples),
        samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        len(samples) / elapsed,
    )


def median_run(runs: list[Latency]) -> Latency:
    return sorted(runs, key=lambda latency: latency.p50_ms)[len(runs) // 2]


def http_call(base_url: str, path: str, expected: int = 200) -> Callable[[], Callable[[], object]]:
    def make() -> Callable[[], object]:
        client = httpx.Client(base_url=base_url, timeout=30)

        def call() -> object:
            response = client.get(path)
            if response.status_code != expected:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
            return response

        return call

    return make


def get_item_call(cloud: RunningCloud, item_id: str) -> Callable[[], Callable[[], object]]:
    table = cloud.state["outputs"]["ItemsTableName"]

    def make() -> Callable[[], object]:
        client = cloud.client("dynamodb")
        return lambda: client.get_item(TableName=table, Key={"itemId": {"S": item_id}})

    return make


def some_item_id(api_url: str) -> str:
    with httpx.Client(base_url=api_url, timeout=30) as client:
        email = f"bench-{time.time_ns()}@example.com"
        account = {"email": email, "password": "Bench-Passw0rd", "name": "B", "role": "seller"}
        client.post("/auth/register", json=account)
        token = client.post("/auth/login", json={"email": email, "password": "Bench-Passw0rd"}).json()["accessToken"]
        created = client.post(
            "/items", headers={"Authorization": f"Bearer {token}"},
            json={"name": "Bench Mouse", "description": "d", "price": 999, "quantity": 5},
        )
        created.raise_for_status()
        return str(created.json()["itemId"])


def cold_starts(count: int) -> list[float]:
    times = []
    for _ in range(count):
        with tempfile.TemporaryDirectory() as workdir:
            cloud = launch(Path(workdir), seed=True)
            times.append(cloud.seconds_to_ready)
            cloud.stop()
    return times


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr.splitlines()
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, {java[0] if java else 'no Java'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--only", nargs="*", choices=TOPICS, help="topic benchmarks to run (default all)")
    args = parser.parse_args()

    results: dict[str, Latency] = {}
    with tempfile.TemporaryDirectory() as workdir:
        # Throttling and the edge's rate limits off for the load: the 429 tests check them; we time the rest.
        cloud = launch(
            Path(workdir),
            overrides=["EnableDiagnostics=true", "ThrottlingRateLimit=1000000", "ThrottlingBurstLimit=1000000",
                       "EdgeProtection=false"],
        )
        try:
            api = cloud.state["endpoints"]["api"]
            item_id = some_item_id(api)
            for concurrency in (1, 8):
                cases = {
                    f"bare boto3 GetItem, c={concurrency}": get_item_call(cloud, item_id),
                    f"gateway GET /items/{{id}}, c={concurrency}": http_call(api, f"/items/{item_id}"),
                    f"gateway GET /health (no function), c={concurrency}": http_call(api, "/health"),
                    f"gateway no-op function, c={concurrency}": http_call(api, "/_diagnostics/noop"),
                }
                for name, make_call in cases.items():
                    runs = [measure(name, make_call, args.requests, concurrency) for _ in range(args.repeats)]
                    results[name] = median_run(runs)
                    print(results[name].row(), flush=True)
        finally:
            cloud.stop()
    starts = cold_starts(args.cold_starts)
    print(f"cold starts: {', '.join(f'{s:.2f}' for s in starts)} s", flush=True)
    report = render(results, starts, args)
    report += topic_benchmarks(args)
    args.output.write_text(report)
    print(f"written to {args.output.relative_to(ROOT)}")
    return 0


SECTIONS = {
    "Event delivery (issue: local cloud, part 2)": ("streams", "queues", "eventbridge", "stepfunctions"),
    "Services (issues: catalog and search; checkout)": ("search", "checkout"),
    "Order history (issue: order history at scale)": ("orders",),
    "Recommendations (issue: recommendations)": ("recommendations", "recommendations_scale"),
    "At rest (issue: one house to live in)": ("idle",),
    "Start-up (issue: deployable and portable)": ("startup",),
    "Storefront (issue: a storefront and a seller console)": ("storefront",),
}
TOPICS = tuple(topic for topics in SECTIONS.values() for topic in topics)


def topic_benchmarks(args: argparse.Namespace) -> str:
    """The benchmarks of each topic (bench/<topic>.py), each with its own cloud and its own baseline."""
    lines: list[str] = []
    for title, topics in SECTIONS.items():
        chosen = [topic for topic in topics if topic in (args.only or TOPICS)]
        if chosen:
            lines += [f"## {title}", ""]
        for topic in chosen:
            lines += run_topic(topic, args)
    return "\n".join(lines) + "\n"


def run_topic(topic: str, args: argparse.Namespace) -> list[str]:
    module = importlib.import_module(f"bench.{topic}")
    with tempfile.TemporaryDirectory() as workdir:
        section: list[str] = module.run(Path(workdir), args.repeats)
    print("\n".join(section), flush=True)
    return [*section, ""]


def render(results: dict[str, Latency], starts: list[float], args: argparse.Namespace) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        f"Command: `make bench` (`python -m bench --requests {args.requests} --repeats {args.repeats} "
        f"--cold-starts {args.cold_starts}`). Each row is the median of {args.repeats} runs of "
        f"{args.requests} requests; the client runs on the same 2 cores as the system under test.",
        "",
        "## Local cloud (issue: foundation)",
        "",
        "| case | p50 ms | p99 ms | req/s |",
        "|---|---|---|---|",
        *(latency.row() for latency in results.values()),
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    for concurrency in (1, 8):
        bare = results[f"bare boto3 GetItem, c={concurrency}"]
        gateway = results[f"gateway GET /items/{{id}}, c={concurrency}"]
        health = results[f"gateway GET /health (no function), c={concurrency}"]
        noop = results[f"gateway no-op function, c={concurrency}"]
        ratio = gateway.p50_ms / bare.p50_ms
        overhead = noop.p50_ms - health.p50_ms
        lines.append(
            f"| gateway GET p50 ≤ 2 × bare GetItem (c={concurrency}) | {ratio:.2f} × "
            f"({gateway.p50_ms:.2f} vs {bare.p50_ms:.2f} ms) | {'met' if ratio <= 2 else 'missed'} |"
        )
        lines.append(
            f"| no-op invoke overhead ≤ 1 ms p50 (c={concurrency}) | {overhead:.2f} ms "
            f"(no-op {noop.p50_ms:.2f} − gateway alone {health.p50_ms:.2f}) | {'met' if overhead <= 1 else 'missed'} |"
        )
    median_start = statistics.median(starts)
    notes = [
        "",
        "Where the time of GET /items/{id} goes: the function makes two reads, the item (Items table) and its "
        "stock rows (a Query on Inventory), issued concurrently; on 2 cores they compete with each other and "
        "with DynamoDB Local's JVM, so the handler's own time (its REPORT duration, ~4.5–5 ms p50 in a quiet "
        "run) is almost all DynamoDB, while the gateway and worker add only the no-op overhead above. One read "
        "per request would need the stock on the item row, which every reservation would then rewrite (and "
        "re-index); we keep the tables apart and report the ratio as measured.",
    ]
    lines += [
        "| cold start ≤ 5 s (`python -m infra run` started to `ready:`; the demo catalog follows over the API) "
        f"| median {median_start:.2f} s "
        f"({', '.join(f'{s:.2f}' for s in starts)}) | {'met' if median_start <= 5 else 'missed'} |",
        *notes,
        "",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
