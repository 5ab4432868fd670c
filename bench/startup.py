"""Start-up: `python -m infra run` until it prints `ready:`, against AWS's DynamoDB Local jar alone.

The baseline is the jar as AWS ships it, started with default JVM flags (`java -jar DynamoDBLocal.jar
-inMemory`), timed until it answers ListTables: no local cloud can be ready before its DynamoDB is. Each
round starts the jar alone, a moto server alone (`python -m infra.moto_server`, until it answers) and then
the whole cloud (the real template, without the demo catalog, which `make run` loads over the API after
`ready:`), one after another, so the ratio of each round compares runs made seconds apart on a machine
whose speed drifts. The cloud's state file tells how far it was at the end of each step of its start
(infra.cloud LocalCloud.startup_parts). The first round also makes the caches a fresh checkout builds
once (the template's translation, DynamoDB Local's class-data sharing archive) and is not counted.

    python -m bench.startup [--repeats 3]      # this section alone, printed (make bench writes it to docs/)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.core import processes
from infra.launcher import ROOT, launch

TARGET_SECONDS = 2.0
TARGET_RATIO = 1.2
PARTS = ("imports", "template", "dynamodb", "moto", "provision", "event sources")


def _until_answers(service: processes.Service, timeout: float = 120.0) -> float:
    began = time.monotonic()
    while not processes._answers(service):
        if service.process.poll() is not None or time.monotonic() - began > timeout:
            raise RuntimeError(f"{service.name} did not answer: see {service.log_path}")
        time.sleep(0.01)
    return time.monotonic() - began


def bare_jar_seconds(workdir: Path) -> float:
    """AWS's jar with default JVM flags (its own main, its own class path), until ListTables answers."""
    jar = processes.dynamodb_local_jar()
    if jar is None:
        raise RuntimeError("DynamoDB Local is not installed")
    port = processes.free_port()
    command = ["java", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
               "-inMemory", "-port", str(port)]  # fmt: skip
    began = time.monotonic()
    service = processes._spawn("dynamodb", command, f"http://{processes.HOST}:{port}", workdir, cwd=jar.parent)
    try:
        _until_answers(service)
        return time.monotonic() - began
    finally:
        service.stop()


def moto_seconds(workdir: Path) -> float:
    port = processes.free_port()
    began = time.monotonic()
    service = processes.start_moto(port, workdir, lambda_url="http://127.0.0.1:9", dynamodb_url="http://127.0.0.1:9")
    try:
        _until_answers(service)
        return time.monotonic() - began
    finally:
        service.stop()


def cloud_start(workdir: Path) -> tuple[float, dict[str, float]]:
    cloud = launch(workdir)
    try:
        return cloud.seconds_to_ready, dict(cloud.state.get("startup", {}))
    finally:
        cloud.stop()


def _interpreter_seconds() -> float:
    """`python -c pass` in this venv: what every Python process pays before its first import."""
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=ROOT, env={**os.environ})
    return time.monotonic() - began


def run(workdir: Path, repeats: int) -> list[str]:
    cloud_start(workdir / "warm-up")  # builds the caches a fresh checkout makes once; not counted
    jar, moto, ready, ratios, interpreter = [], [], [], [], []
    parts: dict[str, list[float]] = {part: [] for part in PARTS}
    for round_number in range(repeats):
        folder = workdir / f"round-{round_number}"
        folder.mkdir(parents=True)
        jar.append(bare_jar_seconds(folder))
        moto.append(moto_seconds(folder))
        interpreter.append(_interpreter_seconds())
        seconds, steps = cloud_start(folder / "cloud")
        ready.append(seconds)
        ratios.append(seconds / jar[-1])
        for part in PARTS:
            if part in steps:
                parts[part].append(steps[part])
        print(f"startup round {round_number + 1}: jar {jar[-1]:.2f} s, moto {moto[-1]:.2f} s, "
              f"ready {seconds:.2f} s ({steps})", flush=True)  # fmt: skip
    median_ready, median_ratio, median_jar = statistics.median(ready), statistics.median(ratios), statistics.median(jar)
    met = median_ready <= TARGET_SECONDS or median_ratio <= TARGET_RATIO
    step_rows = [f"| {part} | {statistics.median(values):.2f} |" for part, values in parts.items() if values]
    return [
        "### Start-up (bench/startup.py)",
        "",
        f"Median of {repeats} rounds; each round starts AWS's DynamoDB Local jar alone (default JVM flags, until "
        "ListTables answers), a moto server alone, then `python -m infra run --no-seed` until `ready:` (the "
        "demo catalog loads over the API after it). A warm-up start made the template cache and the CDS "
        "archive first, as the first `make run` of a checkout does.",
        "",
        "| run | seconds |",
        "|---|---|",
        f"| baseline: DynamoDB Local jar alone, default JVM flags | {median_jar:.2f} |",
        f"| moto server alone (`python -m infra.moto_server`, with the hooks) | {statistics.median(moto):.2f} |",
        f"| Python interpreter alone (`python -c pass`) | {statistics.median(interpreter):.2f} |",
        f"| `python -m infra run` to `ready:` | {median_ready:.2f} ({', '.join(f'{s:.2f}' for s in ready)}) |",
        "",
        "Where the cloud's start goes (seconds from the start of `LocalCloud.start` to the end of each step; "
        "the services boot and the template is read at the same time, so the steps overlap):",
        "",
        "| step ends | seconds |",
        "|---|---|",
        *step_rows,
        "",
        "Function workers are not on the way to `ready:`: they warm one function at a time after it. The JVM "
        "maps its classes from a CDS archive, the template's translation comes from .local/cache, and moto "
        "starts without its EC2 model (docs/local-cloud.md, Start-up). On 2 cores every part competes for CPU "
        "with the others, so a step's end moves with the load of the machine; the ratio, made seconds apart, "
        "does much less.",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| `ready:` ≤ {TARGET_SECONDS:.0f} s, or ≤ {TARGET_RATIO} × the jar alone in the same round | "
        f"{median_ready:.2f} s, {median_ratio:.2f} × (rounds: {', '.join(f'{r:.2f}' for r in ratios)}) | "
        f"{'met' if met else 'missed'} |",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--repeats", type=int, default=3)
    with tempfile.TemporaryDirectory() as folder:
        print("\n".join(run(Path(folder), parser.parse_args().repeats)))
