"""`make smoke` (scripts/smoke.py) runs the README journeys against a stack given only its API URL: here the
test session's cloud, as it would a deployed one."""

from __future__ import annotations

import subprocess
import sys

from infra.launcher import ROOT

STEPS = ("seller signs in", "seller lists an item", "search finds it", "buyer fills a cart", "buyer checks out",
         "order reaches CONFIRMED")  # fmt: skip


def _smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "smoke.py"), *args],
        capture_output=True, text=True, timeout=240, check=False,
    )


def test_smoke_passes_every_journey_step_against_a_running_stack(stack):
    result = _smoke("--api", stack.api_url, "--wait", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" (", 1)[0].removeprefix("ok   ") for line in lines[: len(STEPS)]] == list(STEPS)
    assert "PENDING" in lines[len(STEPS) - 1] and lines[len(STEPS) - 1].endswith("CONFIRMED")
    assert lines[-1].startswith("smoke passed")


def test_smoke_stops_with_exit_1_at_the_first_failing_step(stack):
    unknown_seller = ("--seller-email", "nobody-smoke@example.com", "--seller-password", "Wr0ng-passw0rd")
    result = _smoke("--api", stack.api_url, *unknown_seller)
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()  # nothing runs after the failing step
    assert line.startswith("FAIL seller signs in: POST /auth/login answered 401")
