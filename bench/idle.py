"""An idle `make run`: how much CPU the local cloud uses while nobody calls it.

The cloud runs the real template with the demo catalog, as `make run` does. Once the catalog is loaded
and every function is warm, the CPU time of the cloud's whole process tree (the cloud itself, DynamoDB
Local's JVM, the moto server, the fork server and the function workers) is read from /proc at the start
and end of consecutive windows. The baseline, measured first in the same run, is the two emulators
(DynamoDB Local and a moto server) started alone, answering nobody: what is left above it is the local
cloud's own pollers, sweepers and timers, and what they make the emulators do.

    BENCH_IDLE_SECONDS=600 python -m bench --only idle      # ten minutes, as the target says (default)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from infra.core import processes
from infra.launcher import launch

IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "600"))
TARGET_PERCENT = 5.0  # of one core
SETTLE_TIMEOUT_SECONDS = 180.0
_TICK = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def _tree(root: int) -> set[int]:
    children, found, pending = _children(), set(), [root]
    while pending:
        pid = pending.pop()
        found.add(pid)
        pending += children.get(pid, [])
    return found


def _cpu_seconds(pids: set[int]) -> dict[str, float]:
    """CPU seconds (user + system) per kind of process: cloud, dynamodb (java), moto, workers."""
    totals = {"cloud": 0.0, "dynamodb": 0.0, "moto": 0.0, "workers": 0.0}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue  # exited between listing and reading
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        if "java" in command:
            kind = "dynamodb"
        elif "moto_server" in command:
            kind = "moto"
        elif "-m\0infra\0run" in command:
            kind = "cloud"
        else:
            kind = "workers"
        totals[kind] += seconds
    return totals


def _settle(api: str, output: Path) -> None:
    """Until the demo catalog is in and one worker per function is warm (what `make run` does after ready)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    with httpx.Client(base_url=api, timeout=10) as client:
        while time.monotonic() < deadline:
            functions = client.get("/health").json().get("functions", {})
            loaded = "demo catalog:" in output.read_text(errors="replace")
            if loaded and functions and all(stats["warm"] >= 1 for stats in functions.values()):
                time.sleep(5)  # let the last stream batches and index commits of the catalog finish
                return
            time.sleep(1)
    raise RuntimeError("the cloud did not settle (catalog loaded, every function warm) in time")


def _windows(pids: Callable[[], set[int]], count: int, seconds: float) -> list[dict[str, float]]:
    """% of one core per kind of process, for each of `count` consecutive windows of `seconds`."""
    windows = []
    for _ in range(count):
        before, began = _cpu_seconds(pids()), time.monotonic()
        time.sleep(seconds)
        after, elapsed = _cpu_seconds(pids()), time.monotonic() - began
        windows.append({kind: (after[kind] - before[kind]) / elapsed * 100 for kind in after})
    return windows


def _emulators_alone(workdir: Path, count: int, seconds: float) -> list[dict[str, float]]:
    """The baseline: DynamoDB Local and moto, started as the cloud starts them, with nothing calling them."""
    moto_port, dynamodb_port = processes.free_port(), processes.free_port()
    moto = processes.start_moto(moto_port, workdir, lambda_url="http://127.0.0.1:9",
                                dynamodb_url=f"http://{processes.HOST}:{dynamodb_port}")  # fmt: skip
    services = [moto, processes.start_dynamodb_local(dynamodb_port, workdir)]
    try:
        for service in services:
            asyncio.run(processes.wait_until_ready(service))
        processes.configure_moto(moto.url)
        time.sleep(5)  # start-up work (JIT, imports) is over
        return _windows(lambda: {service.process.pid for service in services}, count, seconds)
    finally:
        for service in services:
            service.stop()


def run(workdir: Path, repeats: int) -> list[str]:
    count = max(repeats, 1)
    window = IDLE_SECONDS / count
    # The emulators alone hardly vary: a fifth of the time is enough for their baseline.
    baseline = _emulators_alone(workdir / "emulators", count, max(window / 5, 10.0))
    cloud = launch(workdir / "idle", seed=True)
    try:
        _settle(cloud.state["endpoints"]["api"], cloud.workdir / "cloud.out")
        windows = _windows(lambda: _tree(cloud.process.pid), count, window)
    finally:
        cloud.stop()
    total = statistics.median(sum(shares.values()) for shares in windows)
    emulators = statistics.median(sum(shares.values()) for shares in baseline)
    median = {kind: statistics.median(shares[kind] for shares in windows) for kind in windows[0]}
    return [
        "### An idle `make run` (bench/idle.py)",
        "",
        f"The full template with the demo catalog, every function warm, then {IDLE_SECONDS:.0f} s with no request "
        f"in {len(windows)} window(s); CPU time of the process tree from /proc, in % of one core (median window). "
        "Baseline, measured first (for a fifth of that time): DynamoDB Local and moto started alone, nothing "
        "calling them.",
        "",
        "| process | % of one core |",
        "|---|---|",
        f"| baseline: DynamoDB Local (JVM) + moto server alone | {emulators:.2f} |",
        f"| the cloud: DynamoDB Local + moto, answering its pollers | {median['dynamodb'] + median['moto']:.2f} |",
        f"| the cloud: the local cloud itself (gateway, pollers, sweepers) | {median['cloud']:.2f} |",
        f"| the cloud: function workers and fork server | {median['workers']:.2f} |",
        f"| the cloud: all of it | {total:.2f} |",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| idle `make run` < {TARGET_PERCENT:g} % of one core | {total:.2f} % "
        f"(+{total - emulators:.2f} over the emulators alone) | {'met' if total < TARGET_PERCENT else 'missed'} |",
    ]
