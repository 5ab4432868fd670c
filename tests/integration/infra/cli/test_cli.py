"""The local cloud's command line and lifecycle: env, invoke, and nothing left running after it stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.launcher import ROOT, launch

DIAGNOSTICS_EVENT = {
    "version": "2.0", "routeKey": "GET /_diagnostics/{action}", "rawPath": "/_diagnostics/noop",
    "rawQueryString": "", "headers": {}, "pathParameters": {"action": "noop"},
    "requestContext": {"http": {"method": "GET", "path": "/_diagnostics/noop", "sourceIp": "127.0.0.1"},
                       "requestId": "cli-test", "routeKey": "GET /_diagnostics/{action}", "stage": "$default"},
    "isBase64Encoded": False,
}


def _cli(*args: str, state_file: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ}
    if state_file:
        env["SHOP_CLOUD_STATE"] = str(state_file)
    return subprocess.run(
        [sys.executable, "-m", "infra", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, timeout=120,
        check=False,
    )


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _wait_until_gone(pids: set[int], seconds: float = 15) -> set[int]:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


def test_env_prints_the_variables_that_point_sdks_at_the_cloud(local_only):
    result = _cli("env", "--json", state_file=local_only.cloud.workdir / "cloud.json")
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)
    assert variables["SHOP_API_URL"] == local_only.api_url
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"].startswith("http://127.0.0.1:")
    assert variables["AWS_ENDPOINT_URL_LAMBDA"] == local_only.lambda_url
    exports = _cli("env", state_file=local_only.cloud.workdir / "cloud.json").stdout.decode()
    assert f"export SHOP_API_URL={local_only.api_url}" in exports


def test_invoke_through_the_running_cloud(local_only, tmp_path):
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(DIAGNOSTICS_EVENT))
    result = _cli("invoke", "DiagnosticsFunction", "--event", str(event_file),
                  state_file=local_only.cloud.workdir / "cloud.json")
    assert result.returncode == 0, result.stderr
    assert json.loads(json.loads(result.stdout)["body"]) == {"ok": True}
    assert b"REPORT RequestId" in result.stderr  # the log tail, as `sam local invoke` shows it


def test_invoke_reports_a_failing_function_with_a_non_zero_exit(local_only):
    event = {**DIAGNOSTICS_EVENT, "rawPath": "/_diagnostics/raise", "pathParameters": {"action": "raise"}}
    result = _cli("invoke", "DiagnosticsFunction", "--event", "-", stdin=json.dumps(event).encode(),
                  state_file=local_only.cloud.workdir / "cloud.json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "RuntimeError"


def test_invoke_without_a_running_cloud_starts_one_and_leaves_nothing_behind(tmp_path):
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(DIAGNOSTICS_EVENT))
    process = subprocess.Popen(
        [sys.executable, "-m", "infra", "invoke", "DiagnosticsFunction", "--event", str(event_file),
         "--parameter-overrides", "EnableDiagnostics=true"],
        cwd=ROOT, env={**os.environ, "SHOP_CLOUD_STATE": str(tmp_path / "absent.json")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    seen: set[int] = set()
    while process.poll() is None:
        seen |= _descendants(process.pid)
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr.decode()[-3000:]
    assert json.loads(json.loads(stdout)["body"]) == {"ok": True}
    assert seen, "the invoke should have started services"
    assert _wait_until_gone(seen) == set()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["term", "int", "kill"])
def test_stopping_the_cloud_leaves_no_process_behind(tmp_path, stop_signal):
    import httpx

    cloud = launch(tmp_path, overrides=["EnableDiagnostics=true"])
    try:
        # one request so every kind of child exists: java, moto, function workers
        assert httpx.get(f"{cloud.state['endpoints']['api']}/_diagnostics/noop", timeout=30).status_code == 200
        children = _descendants(cloud.process.pid)
        commands = " ".join(
            Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") for pid in _alive(children)
        )
        assert "java" in commands and "moto_server" in commands
        # Workers are forked by the fork server and share its command line (or, without it, run worker_bootstrap).
        assert commands.count("worker_zygote.py") >= 2 or "worker_bootstrap" in commands
        cloud.process.send_signal(stop_signal)
        code = cloud.process.wait(30)
        if stop_signal != signal.SIGKILL:
            assert code == 0, (tmp_path / "cloud.out").read_text()[-2000:]
        assert _wait_until_gone(children) == set()
    finally:
        cloud.stop()
    assert not (tmp_path / "cloud.json").exists() or stop_signal == signal.SIGKILL
