"""Function workers behave like Lambda execution environments: real processes, no mocks. Every test runs
twice: workers forked by the fork server (the default) and workers started by exec (its fallback)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.awslambda.models import AliasSpec, FunctionSpec, function_reference
from infra.awslambda.workers import FunctionNotFound, FunctionRuntime, InvokeResult

Body = dict[str, Any]


@pytest.fixture(autouse=True, params=["fork", "exec"])
def start_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOCAL_WORKERS_FORK", "1" if request.param == "fork" else "0")
    return str(request.param)


def run(
    specs: list[FunctionSpec], scenario: Callable[[FunctionRuntime], Awaitable[Any]], endpoints, **options: Any
) -> Any:
    """Run a scenario against a fresh runtime, always closing it."""

    async def main() -> Any:
        runtime = FunctionRuntime({spec.name: spec for spec in specs}, endpoints, **options)
        try:
            return await scenario(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())


async def invoke(runtime: FunctionRuntime, name: str, event: Any = None, **kwargs: Any) -> tuple[InvokeResult, Any]:
    result = await runtime.invoke(name, json.dumps(event if event is not None else {}).encode(), **kwargs)
    return result, json.loads(result.payload)


def alive(pid: int) -> bool:
    """Running or sleeping: a zombie is dead (a worker forked by the fork server is reaped by whoever
    adopts it once the server is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_warm_worker_is_reused(make_spec, endpoints):
    async def scenario(runtime):
        _, first = await invoke(runtime, "env")
        _, second = await invoke(runtime, "env")
        return first, second, runtime.stats()["env"]

    first, second, stats = run([make_spec("env")], scenario, endpoints)
    assert first["pid"] == second["pid"]
    assert first["cold"] is True and second["cold"] is False  # module state survives, like a warm Lambda
    assert stats["invocations"] == 2 and stats["coldStarts"] == 1 and stats["warm"] == 1


def test_overlapping_invocations_run_in_distinct_workers(make_spec, endpoints):
    async def scenario(runtime):
        results = await asyncio.gather(*(invoke(runtime, "sleep", {"seconds": 0.3}) for _ in range(3)))
        return [body["pid"] for _, body in results], runtime.stats()["sleep"]

    pids, stats = run([make_spec("sleep")], scenario, endpoints)
    assert len(set(pids)) == 3
    assert stats["warm"] == 3 and stats["busy"] == 0


def test_reserved_concurrency_caps_workers_and_queues_the_rest(make_spec, endpoints):
    async def scenario(runtime):
        results = await asyncio.gather(*(invoke(runtime, "sleep", {"seconds": 0.05}) for _ in range(4)))
        return results, runtime.stats()["sleep"]

    results, stats = run([make_spec("sleep", reserved_concurrency=1)], scenario, endpoints)
    assert all(result.function_error is None for result, _ in results)
    assert len({body["pid"] for _, body in results}) == 1
    assert stats["coldStarts"] == 1


def test_environment_holds_only_lambda_variables(make_spec, endpoints, monkeypatch, tmp_path):
    monkeypatch.setenv("PARENT_SECRET_SHOULD_NOT_LEAK", "1")
    layer = tmp_path / "layer"
    layer.mkdir()
    spec = make_spec("env", environment={"TABLE": "items"}, layer_dirs=(layer,), memory_mb=256)

    async def scenario(runtime):
        return (await invoke(runtime, "env"))[1]

    body = run([spec], scenario, endpoints)
    environ = body["environ"]
    lambda_variables = {
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE", "_HANDLER",
        "LAMBDA_TASK_ROOT", "AWS_EXECUTION_ENV", "TZ", "LANG", "PATH", "AWS_SAM_LOCAL", "PYTHONUNBUFFERED",
    }  # fmt: skip
    expected = {"TABLE"} | set(endpoints.aws_environment()) | lambda_variables
    # Set by the runtime inside the worker: the X-Ray header per invocation, and Python's own locale coercion.
    assert set(environ) - expected <= {"_X_AMZN_TRACE_ID", "LC_CTYPE"}
    assert expected <= set(environ)
    assert environ["TABLE"] == "items"
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "env"
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert environ["AWS_SAM_LOCAL"] == "true"
    assert environ["_HANDLER"] == "app.lambda_handler"
    assert environ["AWS_ENDPOINT_URL_DYNAMODB"] == endpoints.dynamodb
    assert body["cwd"] == str(spec.code_dir) == environ["LAMBDA_TASK_ROOT"]
    assert body["sys_path"][:2] == [str(spec.code_dir), str(layer)]
    assert not body["infra_importable"] and not body["bootstrap_importable"]
    assert body["stdin"] == ""


def test_context_object_has_lambda_values(make_spec, endpoints):
    async def scenario(runtime):
        return (await invoke(runtime, "env", request_id="req-123"))[1]["context"]

    context = run([make_spec("env", timeout_seconds=7)], scenario, endpoints)
    assert context["function_name"] == "env"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:env"
    assert context["memory_limit_in_mb"] == "128"
    assert context["aws_request_id"] == "req-123"
    assert context["log_group_name"] == "/aws/lambda/env"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert 6000 < context["remaining"] <= 7000
    assert context["identity"] is None and context["client_context"] is None


def test_printing_to_stdout_goes_to_the_log_not_the_protocol(make_spec, endpoints, tmp_path):
    async def scenario(runtime):
        first = await invoke(runtime, "print", capture_log=True)
        second = await invoke(runtime, "print")
        return first, second

    (first, body), (_, again) = run([make_spec("print")], scenario, endpoints, log_dir=tmp_path)
    assert first.function_error is None and body["printed"] is True
    assert again["pid"] == body["pid"]
    log = (tmp_path / "print.log").read_bytes()
    for line in (b"hello from print", b"binary-looking", b"raw bytes", b"straight to fd 1", b"to stderr"):
        assert line in log
        assert first.log_tail is not None and line in first.log_tail
    assert f"START RequestId: {first.request_id} Version: $LATEST".encode() in log
    assert re.search(rf"REPORT RequestId: {first.request_id}\tDuration: [\d.]+ ms\t.*Init Duration".encode(), log)


def test_unhandled_exception_is_an_error_result_and_the_worker_survives(make_spec, endpoints, tmp_path):
    async def scenario(runtime):
        failures = [await invoke(runtime, "raise", {"message": "card declined"}) for _ in range(2)]
        return failures, runtime.stats()["raise"]

    failures, stats = run([make_spec("raise")], scenario, endpoints, log_dir=tmp_path)
    result, body = failures[0]
    assert result.function_error == "Unhandled"
    assert body["errorType"] == "PaymentDeclinedError"
    assert body["errorMessage"] == "card declined"
    assert body["requestId"] == result.request_id
    assert any("app.py" in frame and "lambda_handler" in frame for frame in body["stackTrace"])
    assert not any("worker_bootstrap" in frame for frame in body["stackTrace"])
    assert stats == {**stats, "invocations": 2, "errors": 2, "coldStarts": 1, "warm": 1}
    log = (tmp_path / "raise.log").read_text()
    assert "[ERROR] PaymentDeclinedError: card declined" in log and "Traceback (most recent call last):" in log


def test_unserialisable_result_is_a_marshal_error(make_spec, endpoints):
    async def scenario(runtime):
        return await invoke(runtime, "raise", {"unserialisable": True})

    result, body = run([make_spec("raise")], scenario, endpoints)
    assert result.function_error == "Unhandled"
    assert body["errorType"] == "Runtime.MarshalError"
    assert "bytes is not JSON serializable" in body["errorMessage"]


def test_timeout_kills_the_worker_and_the_next_invoke_gets_a_new_one(make_spec, endpoints, tmp_path):
    async def scenario(runtime):
        _, before = await invoke(runtime, "sleep", {"seconds": 0})
        timed_out = await invoke(runtime, "sleep", {"seconds": 10})
        _, after = await invoke(runtime, "sleep", {"seconds": 0})
        return before["pid"], timed_out, after["pid"]

    old_pid, (result, body), new_pid = run(
        [make_spec("sleep", timeout_seconds=1)], scenario, endpoints, log_dir=tmp_path
    )
    assert result.function_error == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    pattern = rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {result.request_id} Task timed out after 1\.00 seconds"
    assert re.fullmatch(pattern, body["errorMessage"])
    assert 1000 <= result.duration_ms < 3000
    assert new_pid != old_pid and not alive(old_pid)
    assert "Task timed out after 1.00 seconds" in (tmp_path / "sleep.log").read_text()


@pytest.mark.parametrize(
    ("event", "reason"),
    [({"status": 3}, "exit status 3"), ({"signal": "SIGSEGV"}, "signal: segmentation fault")],
)
def test_worker_dying_mid_invoke_is_an_exit_error(make_spec, endpoints, event, reason):
    async def scenario(runtime):
        first = await invoke(runtime, "exit", event)
        second = await invoke(runtime, "exit", event)
        return first, second, runtime.stats()["exit"]

    (result, body), (again, _), stats = run([make_spec("exit")], scenario, endpoints)
    assert result.function_error == "Unhandled" and again.function_error == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"] == f"RequestId: {result.request_id} Error: Runtime exited with error: {reason}"
    assert stats["coldStarts"] == 2 and stats["warm"] == 0


def test_killed_worker_fails_its_invocation_and_is_replaced(make_spec, endpoints):
    async def scenario(runtime):
        _, first = await invoke(runtime, "sleep", {"seconds": 0})
        pending = asyncio.ensure_future(invoke(runtime, "sleep", {"seconds": 5}))
        await asyncio.sleep(0.3)
        os.kill(first["pid"], signal.SIGKILL)
        killed = await pending
        _, after = await invoke(runtime, "sleep", {"seconds": 0})
        return first["pid"], killed, after["pid"]

    old_pid, (_, body), new_pid = run([make_spec("sleep")], scenario, endpoints)
    assert body["errorType"] == "Runtime.ExitError" and body["errorMessage"].endswith("signal: killed")
    assert new_pid != old_pid


def test_import_error_fails_every_invoke_without_hanging(make_spec, endpoints):
    async def scenario(runtime):
        return [await invoke(runtime, "broken") for _ in range(2)]

    for result, body in run([make_spec("broken")], scenario, endpoints):
        assert result.function_error == "Unhandled"
        assert body["errorType"] == "Runtime.ImportModuleError"
        assert body["errorMessage"] == "Unable to import module 'app': No module named 'module_that_does_not_exist'"


def test_missing_handler_attribute(make_spec, endpoints):
    async def scenario(runtime):
        return await invoke(runtime, "echo")

    _, body = run([make_spec("echo", handler="app.nope")], scenario, endpoints)
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nope' missing on module 'app'"


def test_close_leaves_no_process_behind(make_spec, endpoints):
    async def scenario(runtime):
        results = await asyncio.gather(
            *(invoke(runtime, "sleep", {"seconds": 0.2}) for _ in range(3)), invoke(runtime, "env")
        )
        pids = [body["pid"] for _, body in results]
        busy = asyncio.ensure_future(invoke(runtime, "sleep", {"seconds": 30}))
        await asyncio.sleep(0.2)
        await runtime.close()
        _, body = await busy
        return pids, body

    pids, body = run([make_spec("sleep", timeout_seconds=60), make_spec("env")], scenario, endpoints)
    assert body["errorType"] == "Runtime.ExitError"  # the invocation in flight was ended, not left hanging
    assert len(set(pids)) == 4
    assert not any(alive(pid) for pid in pids)
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    assert not set(children) & {str(pid) for pid in pids}


def test_prewarm_starts_one_worker_per_function(make_spec, endpoints):
    async def scenario(runtime):
        await runtime.prewarm()
        return runtime.stats()

    stats = run([make_spec("echo"), make_spec("noop")], scenario, endpoints)
    assert stats["echo"]["warm"] == 1 and stats["noop"]["warm"] == 1
    assert stats["echo"]["invocations"] == 0


def test_event_invocations_run_in_the_background_and_retry_twice(make_spec, endpoints):
    async def scenario(runtime):
        ok_id = await runtime.invoke_event("echo", b'{"a": 1}')
        failing_id = await runtime.invoke_event("raise", b"{}")
        deadline = time.monotonic() + 30
        while runtime.stats()["raise"]["invocations"] < 3 or runtime.stats()["echo"]["invocations"] < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # no fourth attempt
        return ok_id, failing_id, runtime.stats()

    ok_id, failing_id, stats = run(
        [make_spec("echo"), make_spec("raise")], scenario, endpoints, event_retry_delays=(0.05, 0.05)
    )
    assert ok_id != failing_id
    assert stats["echo"]["invocations"] == 1 and stats["echo"]["errors"] == 0
    assert stats["raise"]["invocations"] == 3 and stats["raise"]["errors"] == 3


def test_resolve_accepts_names_arns_and_latest(make_spec, endpoints):
    runtime = FunctionRuntime({"Echo": make_spec("echo", name="EchoFunction")}, endpoints)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:EchoFunction"
    for name in ("EchoFunction", "Echo", arn, f"{arn}:$LATEST", "123456789012:function:EchoFunction",
                 "EchoFunction:$LATEST"):  # fmt: skip
        assert runtime.resolve(name).name == "EchoFunction"
    for name in ("Nope", "EchoFunction:live", f"{arn}:3", "arn:aws:lambda:eu-west-1:123456789012:function:Nope"):
        with pytest.raises(FunctionNotFound):
            runtime.resolve(name)


def test_resolve_names_versions_and_aliases(make_spec, endpoints):
    latest = make_spec("echo", name="EchoFunction")
    first, second = replace(latest, version="1"), replace(latest, version="2")
    alias = AliasSpec("EchoFunction", "live", "2", f"{latest.arn}:live")
    runtime = FunctionRuntime({"EchoFunction": latest}, endpoints, versions=[first, second], aliases=[alias])
    arn = "arn:aws:lambda:us-east-1:123456789012:function:EchoFunction"
    for name, version in (("EchoFunction", latest), ("EchoFunction:$LATEST", latest), ("EchoFunction:1", first),
                          (f"{arn}:2", second), ("EchoFunction:live", second), (f"{arn}:live", second),
                          ("123456789012:function:EchoFunction:live", second)):  # fmt: skip
        assert runtime.resolve(name) is version, name
    for name in ("EchoFunction:3", "EchoFunction:stable", f"{arn}:0", "EchoFunction:live:1"):
        with pytest.raises(FunctionNotFound):
            runtime.resolve(name)
    assert runtime.invoked_arn("EchoFunction:live", second) == f"{arn}:live"
    assert runtime.invoked_arn("EchoFunction", latest) == arn
    assert runtime.entry_points() == ["EchoFunction:live"]
    # the short form mappings and routes keep (they kept only an ARN's last segment: the qualifier)
    assert [function_reference(name) for name in (f"{arn}:live", arn, "123456789012:function:EchoFunction:1",
                                                  "EchoFunction:$LATEST", "function:live")] == [
        "EchoFunction:live", "EchoFunction", "EchoFunction:1", "EchoFunction:$LATEST", "function:live"]  # fmt: skip


def test_a_version_runs_in_workers_of_its_own_that_know_their_version(make_spec, endpoints):
    latest = make_spec("env", name="Env")

    async def scenario(runtime):
        return [await invoke(runtime, name, {}) for name in ("Env:live", "Env", "Env:live")], runtime.stats()["Env"]

    runtime_kwargs = {"versions": [replace(latest, version="1")], "aliases": [AliasSpec("Env", "live", "1", "")]}
    results, stats = run([latest], scenario, endpoints, **runtime_kwargs)
    versions = [body["environ"]["AWS_LAMBDA_FUNCTION_VERSION"] for _, body in results]
    assert versions == ["1", "$LATEST", "1"]
    assert stats["invocations"] == 3 and stats["coldStarts"] == 2  # one environment for version 1, one for $LATEST


def test_workers_use_the_configured_interpreter(make_spec, endpoints):
    async def scenario(runtime):
        return await invoke(runtime, "echo", {"x": 1})

    result, body = run([make_spec("echo")], scenario, endpoints, python=sys.executable)
    assert result.function_error is None and body == {"x": 1}


def test_a_dead_fork_server_fails_its_workers_invocations_and_workers_start_by_exec(make_spec, endpoints, start_mode):
    if start_mode == "exec":
        pytest.skip("about the fork server")

    async def scenario(runtime):
        _, first = await invoke(runtime, "env")
        busy = asyncio.ensure_future(invoke(runtime, "sleep", {"seconds": 30}))
        await asyncio.sleep(0.5)
        os.kill(runtime.fork_server.pid, signal.SIGKILL)
        _, failed = await asyncio.wait_for(busy, 10)
        _, after = await invoke(runtime, "env")
        return first, failed, after

    first, failed, after = run([make_spec("env"), make_spec("sleep", timeout_seconds=60)], scenario, endpoints)
    assert failed["errorType"] == "Runtime.ExitError"
    assert after["pid"] != first["pid"] and not alive(first["pid"])  # the forked worker died with the server
    assert after["environ"]["AWS_LAMBDA_FUNCTION_NAME"] == "env"
