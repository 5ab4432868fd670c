"""Step Functions: a five-state machine of no-op Lambda tasks against the same five invokes made directly.

Both run in one local cloud (tests/fixtures/templates/stepfunctions_bench.yaml), in the same run:
- baseline: five sequential Invoke calls of the no-op function through the Lambda Invoke API (boto3);
- sequential executions: StartExecution, then DescribeExecution every POLL_SECONDS until it has ended
  (what a test or a client of the saga sees, polling included), p50/p99 over EXECUTIONS;
- throughput: EXECUTIONS executions started back to back, executions per second until all have ended.
The overhead per state is (execution p50 - five-invoke p50) / 5; the target is ≤ 5 ms.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.stats import p50_p99, timed_ms
from infra.launcher import ROOT, launch

TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "stepfunctions_bench.yaml"
STATES = 5
EXECUTIONS = 60
POLL_SECONDS = 0.003
TARGET_MS_PER_STATE = 5.0


def _wait_ended(sfn: Any, arn: str, deadline: float) -> dict[str, Any]:
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            if described["status"] != "SUCCEEDED":
                raise RuntimeError(f"{arn} ended {described['status']}: {described.get('cause')}")
            return described
        if time.monotonic() > deadline:
            raise RuntimeError(f"{arn} still running")
        time.sleep(POLL_SECONDS)


def _one_round(sfn: Any, invoke: Callable[[], object], machine: str) -> dict[str, float]:
    baseline = timed_ms(lambda: [invoke() for _ in range(STATES)], EXECUTIONS)

    def execute() -> None:
        arn = sfn.start_execution(stateMachineArn=machine, name=f"bench-{uuid.uuid4().hex}", input="{}")
        _wait_ended(sfn, arn["executionArn"], time.monotonic() + 30)

    executions = timed_ms(execute, EXECUTIONS)

    began = time.perf_counter()
    arns = [sfn.start_execution(stateMachineArn=machine, name=f"burst-{uuid.uuid4().hex}", input="{}")["executionArn"]
            for _ in range(EXECUTIONS)]
    for arn in arns:
        _wait_ended(sfn, arn, time.monotonic() + 60)
    throughput = EXECUTIONS / (time.perf_counter() - began)

    base_p50, base_p99 = p50_p99(baseline)
    exec_p50, exec_p99 = p50_p99(executions)
    return {"base_p50": base_p50, "base_p99": base_p99, "exec_p50": exec_p50, "exec_p99": exec_p99,
            "throughput": throughput, "overhead": (exec_p50 - base_p50) / STATES}


def run(workdir: Path, repeats: int) -> list[str]:
    cloud = launch(workdir, extra_args=["--template", str(TEMPLATE)])
    try:
        outputs = cloud.state["outputs"]
        sfn, lam = cloud.client("stepfunctions"), cloud.client("lambda")
        function, machine = outputs["NoopName"], outputs["FiveTasksArn"]

        def invoke() -> None:
            lam.invoke(FunctionName=function, Payload=b"{}")["Payload"].read()

        for _ in range(3):  # warm the worker, the connections and the parsed definition
            _one_round_warmup(sfn, invoke, machine)
        rounds = [_one_round(sfn, invoke, machine) for _ in range(max(1, repeats))]
    finally:
        cloud.stop()
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    verdict = "met" if median["overhead"] <= TARGET_MS_PER_STATE else "missed"
    return [
        "### Step Functions: five Lambda tasks",
        "",
        f"Median of {len(rounds)} rounds of {EXECUTIONS} executions of a 5-state machine of no-op Lambda tasks "
        f"(StartExecution, then DescribeExecution every {POLL_SECONDS * 1000:.0f} ms until it ends), against "
        f"the same five invokes made directly through the Lambda Invoke API in the same run.",
        "",
        "| case | p50 ms | p99 ms | executions/s |",
        "|---|---|---|---|",
        f"| baseline: 5 sequential Invoke calls | {median['base_p50']:.2f} | {median['base_p99']:.2f} | "
        f"{1000 / median['base_p50']:,.0f} |",
        f"| execution start → end, sequential | {median['exec_p50']:.2f} | {median['exec_p99']:.2f} | "
        f"{1000 / median['exec_p50']:,.0f} |",
        f"| {EXECUTIONS} executions started at once | | | {median['throughput']:,.0f} |",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| overhead per state ≤ {TARGET_MS_PER_STATE:.0f} ms over the bare invoke | "
        f"{median['overhead']:.2f} ms | {verdict} |",
    ]


def _one_round_warmup(sfn: Any, invoke: Callable[[], object], machine: str) -> None:
    invoke()
    arn = sfn.start_execution(stateMachineArn=machine, name=f"warm-{uuid.uuid4().hex}", input="{}")
    _wait_ended(sfn, arn["executionArn"], time.monotonic() + 30)


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print("\n".join(run(Path(directory), int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
