"""What every benchmark computes from its samples (milliseconds)."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at `fraction` of the sorted samples (nearest rank, capped at the largest)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def p50_p99(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 0.99)


def timed_ms(call: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of `runs` sequential calls."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


# What /proc/<pid>/stat's utime and stime count in (clock ticks).
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_kind(pid: int) -> str:
    """Which part of the local cloud a process is, from its command line."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "java" in command.split(" ", 1)[0]:
        return "DynamoDB Local"
    if "moto_server" in command:
        return "moto (SQS, EventBridge, Step Functions, S3, Cognito)"
    if "worker_zygote" in command or "forkserver" in command or "worker_bootstrap" in command:
        return "function workers"
    return "gateway, pollers and invoke (the cloud's own process)"


def cpu_seconds(root: int) -> dict[tuple[int, str], float]:
    """CPU seconds (user + system) so far of `root` and every process under it, per (pid, kind); Linux's /proc.
    The difference of two readings (cpu_spent) is what the processes did between them, even if some were
    started in between; a process that ended in between loses what it did (the cloud's processes live on)."""
    stats: dict[int, list[str]] = {}  # the fields of /proc/<pid>/stat after the command name, read once
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    spent: dict[tuple[int, str], float] = {}
    waiting = [root]
    while waiting:
        pid = waiting.pop()
        waiting += children.get(pid, [])
        if pid in stats:
            spent[(pid, _process_kind(pid))] = (int(stats[pid][11]) + int(stats[pid][12])) / _TICKS_PER_SECOND
    return spent


def cpu_spent(before: dict[tuple[int, str], float], after: dict[tuple[int, str], float]) -> dict[str, float]:
    """CPU seconds per kind of process between two cpu_seconds readings."""
    spent: dict[str, float] = {}
    for (pid, kind), seconds in after.items():
        spent[kind] = spent.get(kind, 0.0) + seconds - before.get((pid, kind), 0.0)
    return spent
