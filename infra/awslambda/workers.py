"""Function workers: Lambda-like execution environments, one OS process each, kept warm and reused.

A worker runs infra/awslambda/worker_bootstrap.py with cwd = the function's code folder and only the variables
Lambda would set; it is forked from the fork server (infra.awslambda.forkserver), which has the common libraries
imported already, or started by exec when there is none. It imports the handler once (the init phase),
then serves invocations one at a time over length-prefixed frames on its stdin/stdout pipes; whatever
the handler prints goes to stderr, which becomes the function's log (infra.awslambda.logs).

Each function has a pool: an idle worker is reused (the most recently used one, to stay warm); when
all are busy a new one starts, up to max_workers_per_function or the reserved concurrency; beyond that
invocations queue for the next free worker. The parent enforces the timeout: the worker is killed and
the invocation fails with Sandbox.Timedout; a worker that dies mid-invocation fails it with
Runtime.ExitError. Either way the next invocation gets a fresh worker.

A published version (AWS::Lambda::Version) has pools of its own, as on Lambda, where each version runs in
its own execution environments (AWS_LAMBDA_FUNCTION_VERSION and the START line name it); an alias
resolves to the version it points at. Reserved concurrency limits each pool, not the function as a whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import struct
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from infra.awslambda.builds import FolderContents, fork_refusal
from infra.awslambda.forkserver import ForkedTransport, ForkServer, ForkServerError
from infra.awslambda.logs import FunctionLog, LogStream
from infra.awslambda.models import LATEST, AliasSpec, FunctionSpec, function_reference
from infra.core.activity import Activity
from infra.core.aws import Endpoints
from infra.faults.control import FaultControl

log = logging.getLogger("infra.awslambda")

BOOTSTRAP = Path(__file__).resolve().with_name("worker_bootstrap.py")

# Frame formats, shared with worker_bootstrap.py (which cannot import this module).
INVOKE = struct.Struct(">QIHHB")  # deadline_epoch_ms, payload_len, request_id_len, arn_len, flags
RESPONSE = struct.Struct(">BIdI")  # kind, max_rss_kb, duration_ms, body_len
READY, OK, ERROR = 1, 2, 3
DIE_AFTER = 1  # flag: the worker exits once its handler has run (the fault lambda.kill)

INIT_TIMEOUT_SECONDS = 10.0  # Lambda's limit for the init phase of an on-demand environment
_SIGNAL_WORDS = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
}


@dataclass
class InvokeResult:
    payload: bytes  # JSON: the handler's return value, or {"errorMessage","errorType","stackTrace","requestId"}
    function_error: str | None  # None on success, "Unhandled" otherwise (the X-Amz-Function-Error header)
    request_id: str
    duration_ms: float
    log_tail: bytes | None = None  # this invocation's log (START..REPORT), when invoke(capture_log=True)


class FunctionNotFound(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"Function not found: {name}")
        self.name = name


class WorkerStartError(Exception):
    """A worker process exited or hung before its runtime was ready."""


def _error_payload(error_type: str, message: str, request_id: str) -> bytes:
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}
    ).encode()


def _exit_reason(returncode: int | None) -> str:
    if returncode is None:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        try:
            word = _SIGNAL_WORDS.get(signal.Signals(-returncode), signal.Signals(-returncode).name)
        except ValueError:
            word = str(-returncode)
        return f"Runtime exited with error: signal: {word}"
    return f"Runtime exited with error: exit status {returncode}"


class _Invocation:
    __slots__ = ("capture", "future", "request_id", "started", "timer")

    def __init__(self, request_id: str, future: asyncio.Future[InvokeResult], capture: bool) -> None:
        self.request_id = request_id
        self.future = future
        self.started = time.perf_counter()
        self.timer: asyncio.TimerHandle | None = None
        self.capture: list[bytes] | None = [] if capture else None


class _WorkerProtocol(asyncio.SubprocessProtocol):
    def __init__(self, worker: _Worker) -> None:
        self.worker = worker

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        assert isinstance(data, bytes)
        if fd == 1:
            self.worker.frames_received(data)
        else:
            self.worker.log_received(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self.worker.frames_closed()

    def process_exited(self) -> None:
        self.worker.exited()


class _Worker:
    """One execution environment: a process, its pipes, and the invocation it is running."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.loop = pool.loop
        self.transport: asyncio.SubprocessTransport | ForkedTransport | None = None
        self.stdin: asyncio.WriteTransport | None = None
        self.pid = 0
        self.ready: asyncio.Future[None] = self.loop.create_future()
        self.closed: asyncio.Future[None] = self.loop.create_future()
        self.current: _Invocation | None = None
        self.dead = False
        self.init_duration_ms: float | None = None  # reported once, on the first REPORT (a cold start)
        self.idle_since = 0.0
        self.log: LogStream = pool.function_log.stream()
        self._buffer = bytearray()

    async def start(self, runtime: FunctionRuntime) -> None:
        spec = self.pool.spec
        started = time.perf_counter()
        transport, how = await runtime.start_process(lambda: _WorkerProtocol(self), spec)
        # Lambda's cold-start line, saying how this worker started: forked from the fork server, or exec and why
        self.pool.function_log.runtime_lines(f"INIT_START Runtime Version: {spec.runtime}\tWorker: {how}\n", None)
        self.transport = transport
        self.pid = transport.get_pid()
        if runtime.closing:
            self.kill()
            raise WorkerStartError("the runtime is shutting down")
        # uvloop's pipe transports do not subclass asyncio.WriteTransport, but behave as one.
        self.stdin = cast(asyncio.WriteTransport, transport.get_pipe_transport(0))
        try:
            await asyncio.wait_for(asyncio.shield(self.ready), max(INIT_TIMEOUT_SECONDS, spec.timeout_seconds))
        except TimeoutError:
            self.kill()
            raise WorkerStartError(
                f"{spec.name}: init did not finish in {INIT_TIMEOUT_SECONDS:.0f} s (worker killed)"
            ) from None
        # Like Lambda's Init Duration: from starting the runtime to the handler module being imported.
        self.init_duration_ms = (time.perf_counter() - started) * 1000

    # ---------------------------------------------------------------- invocations

    def invoke(
        self, request_id: str, payload: bytes, invoked_arn: str, capture: bool, die_after: bool = False
    ) -> asyncio.Future[InvokeResult]:
        spec = self.pool.spec
        invocation = _Invocation(request_id, self.loop.create_future(), capture)
        self.current = invocation
        start_line = f"START RequestId: {request_id} Version: {spec.version}\n"
        self.pool.function_log.runtime_lines(start_line, request_id)
        if invocation.capture is not None:
            invocation.capture.append(start_line.encode())
        rid = request_id.encode()
        arn = invoked_arn.encode()
        deadline_ms = int(time.time() * 1000) + spec.timeout_seconds * 1000
        assert self.stdin is not None
        flags = DIE_AFTER if die_after else 0
        self.stdin.write(INVOKE.pack(deadline_ms, len(payload), len(rid), len(arn), flags) + rid + arn + payload)
        invocation.timer = self.loop.call_later(spec.timeout_seconds, self._timed_out, invocation)
        return invocation.future

    def frames_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        header = RESPONSE.size
        while len(buffer) >= header:
            kind, max_rss_kb, duration_ms, body_len = RESPONSE.unpack_from(buffer)
            if len(buffer) < header + body_len:
                return
            body = bytes(buffer[header : header + body_len])
            del buffer[: header + body_len]
            if kind == READY:
                self._on_ready(body)
            else:
                invocation = self.current
                if invocation is None:
                    continue  # the answer to an invocation that already timed out
                self.current = None
                if invocation.timer is not None:
                    invocation.timer.cancel()
                # Finish on the next loop turn: log lines the worker wrote just before this frame are
                # read in this same turn, and belong before END/REPORT.
                self.loop.call_soon(self._finish, invocation, kind, body, duration_ms, max_rss_kb)

    def _on_ready(self, body: bytes) -> None:
        if body:
            log.warning("%s: init failed; every invocation will fail: %s", self.pool.spec.name, body.decode())
        if not self.ready.done():
            self.ready.set_result(None)

    def _finish(self, invocation: _Invocation, kind: int, body: bytes, duration_ms: float, rss_kb: int) -> None:
        error = None if kind == OK else "Unhandled"
        self._report(invocation, duration_ms, rss_kb // 1024, status=None)
        self.pool.completed(self, error is not None)
        result = InvokeResult(body, error, invocation.request_id, duration_ms, _tail(invocation))
        if not invocation.future.done():
            invocation.future.set_result(result)

    def _timed_out(self, invocation: _Invocation) -> None:
        if self.current is not invocation:
            return
        self.current = None
        spec = self.pool.spec
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{now} {invocation.request_id} Task timed out after {spec.timeout_seconds:.2f} seconds"
        self.kill()  # first, so that finishing the invocation does not hand this worker out again
        self._fail(invocation, "Sandbox.Timedout", message, status="timeout")

    def _fail(self, invocation: _Invocation, error_type: str, message: str, status: str) -> None:
        if invocation.timer is not None:
            invocation.timer.cancel()
        text = f"{message}\n" if error_type == "Sandbox.Timedout" else f"{message}\n{error_type}\n"
        self.pool.function_log.runtime_lines(text, invocation.request_id, logging.ERROR)
        if invocation.capture is not None:
            invocation.capture.append(text.encode())
        duration_ms = (time.perf_counter() - invocation.started) * 1000
        self._report(invocation, duration_ms, None, status=status)
        self.pool.completed(self, True)
        payload = _error_payload(error_type, message, invocation.request_id)
        result = InvokeResult(payload, "Unhandled", invocation.request_id, duration_ms, _tail(invocation))
        if not invocation.future.done():
            invocation.future.set_result(result)

    def _report(self, invocation: _Invocation, duration_ms: float, memory_mb: int | None, status: str | None) -> None:
        spec = self.pool.spec
        rid = invocation.request_id
        report = (
            f"END RequestId: {rid}\nREPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, int(duration_ms + 0.999))} ms\tMemory Size: {spec.memory_mb} MB\t"
            f"Max Memory Used: {memory_mb if memory_mb is not None else '-'} MB"
        )
        if self.init_duration_ms is not None:
            report += f"\tInit Duration: {self.init_duration_ms:.2f} ms"
            self.init_duration_ms = None
        if status:
            report += f"\tStatus: {status}"
        report += "\n"
        self.pool.function_log.runtime_lines(report, rid)
        if invocation.capture is not None:
            invocation.capture.append(report.encode())

    # ---------------------------------------------------------------- logs and process lifecycle

    def log_received(self, data: bytes) -> None:
        invocation = self.current
        if invocation is None:
            self.log.feed(data, None)
        else:
            self.log.feed(data, invocation.request_id, invocation.capture)

    def frames_closed(self) -> None:
        # The frame pipe only closes when the process is going away; make sure it does.
        if not self.dead and self.transport is not None and self.transport.get_returncode() is None:
            self.kill()

    def exited(self) -> None:
        assert self.transport is not None
        returncode = self.transport.get_returncode()
        invocation = self.current
        self.current = None
        self.log.flush(invocation.request_id if invocation else None, invocation.capture if invocation else None)
        was_dead = self.dead
        self.dead = True
        if not self.ready.done():
            self.ready.set_exception(
                WorkerStartError(f"{self.pool.spec.name}: worker exited during init ({_exit_reason(returncode)})")
            )
            self.ready.exception()  # retrieved here: start() may already have given up waiting
        if invocation is not None:
            message = f"RequestId: {invocation.request_id} Error: {_exit_reason(returncode)}"
            self._fail(invocation, "Runtime.ExitError", message, status="error")
        if not was_dead:
            self.pool.discard(self)
        self.transport.close()
        if not self.closed.done():
            self.closed.set_result(None)

    def kill(self) -> None:
        """SIGKILL the worker and anything its handler started (it leads its own process group)."""
        if not self.dead:
            self.dead = True
            self.pool.discard(self)
        if self.transport is not None and self.transport.get_returncode() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)


def _tail(invocation: _Invocation) -> bytes | None:
    if invocation.capture is None:
        return None
    return b"".join(invocation.capture)[-4096:]


class _Pool:
    """The execution environments of one function."""

    def __init__(self, runtime: FunctionRuntime, spec: FunctionSpec, limit: int, function_log: FunctionLog) -> None:
        self.runtime = runtime
        self.spec = spec
        self.limit = limit
        self.function_log = function_log
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Worker] = []
        self.workers: set[_Worker] = set()  # alive, including those still starting
        self.waiters: deque[asyncio.Future[_Worker]] = deque()
        self.invocations = 0
        self.errors = 0
        self.cold_starts = 0

    async def acquire(self) -> _Worker:
        if self.idle:
            return self.idle.pop()
        if len(self.workers) < self.limit:
            return await self._spawn()
        waiter: asyncio.Future[_Worker] = self.loop.create_future()
        self.waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release(waiter.result())  # handed over just as the caller gave up
            raise

    async def _spawn(self) -> _Worker:
        worker = _Worker(self)
        self.workers.add(worker)
        self.cold_starts += 1
        try:
            await worker.start(self.runtime)
        except BaseException:
            worker.kill()
            self.discard(worker)
            raise
        return worker

    def release(self, worker: _Worker) -> None:
        if worker.dead:
            return
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        worker.idle_since = time.monotonic()
        self.idle.append(worker)

    def completed(self, worker: _Worker, failed: bool) -> None:
        self.invocations += 1
        if failed:
            self.errors += 1
        self.release(worker)

    def discard(self, worker: _Worker) -> None:
        if worker not in self.workers:
            return
        self.workers.discard(worker)
        if worker in self.idle:
            self.idle.remove(worker)
        # A waiter was counting on this capacity: start a replacement for it.
        if self.waiters and not self.runtime.closing:
            self.runtime.background(self._replace())

    async def _replace(self) -> None:
        if len(self.workers) >= self.limit or not self.waiters:
            return
        try:
            worker = await self._spawn()
        except (WorkerStartError, OSError) as error:
            while self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.set_exception(WorkerStartError(str(error)))
                    return
            return
        self.release(worker)

    def reap(self, older_than: float) -> None:
        """Stop idle workers unused since `older_than`, keeping one warm (Lambda recycles idle ones too)."""
        for worker in [w for w in self.idle[:-1] if w.idle_since < older_than]:
            worker.kill()

    def stats(self) -> dict[str, int]:
        alive = len(self.workers)
        idle = len(self.idle)
        return {
            "warm": alive,
            "busy": alive - idle,
            "idle": idle,
            "queued": sum(1 for w in self.waiters if not w.done()),
            "invocations": self.invocations,
            "errors": self.errors,
            "coldStarts": self.cold_starts,
        }


class FunctionRuntime:
    """Runs the stack's functions in warm worker processes; the wiring's single entry point for invokes."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        endpoints: Endpoints,
        *,
        versions: Iterable[FunctionSpec] = (),  # published versions of `functions`
        aliases: Iterable[AliasSpec] = (),
        log_dir: Path | None = None,
        python: str = sys.executable,
        max_workers_per_function: int = 8,
        idle_timeout_seconds: float = 600.0,
        event_retry_delays: Sequence[float] = (1.0, 2.0),
        fork_workers: bool | None = None,  # default: yes, unless LOCAL_WORKERS_FORK=0
        activity: Activity | None = None,
        faults: FaultControl | None = None,  # fault injection: DynamoDB errors in workers, killed workers
    ) -> None:
        self.functions = dict(functions)
        self.faults = faults
        self.activity = activity or Activity()  # told of every invocation, so idle pollers can rest
        self.endpoints = endpoints
        self.log_dir = log_dir
        self.python = python
        self.max_workers_per_function = max_workers_per_function
        self.idle_timeout_seconds = idle_timeout_seconds
        self.event_retry_delays = tuple(event_retry_delays)
        self.closing = False
        self._names: dict[str, FunctionSpec] = {}
        for key, spec in self.functions.items():
            for name in (key, spec.name, spec.arn, spec.arn.rsplit(":", 1)[-1]):
                self._names[name] = spec
        # (function name, qualifier) -> the version it runs: $LATEST, each published version, each alias.
        self._qualified: dict[tuple[str, str], FunctionSpec] = {
            (spec.name, LATEST): spec for spec in self.functions.values()
        }
        for spec in versions:
            self._qualified[(spec.name, spec.version)] = spec
        self.aliases = list(aliases)
        for alias in self.aliases:
            target = self._qualified[(alias.function_name, alias.function_version)]
            self._qualified[(alias.function_name, alias.name)] = target
        self._logs = {spec.name: FunctionLog(spec.name, log_dir) for spec in self.functions.values()}
        self._pools: dict[tuple[str, str], _Pool] = {}  # by (function name, version)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reaper: asyncio.TimerHandle | None = None
        if fork_workers is None:
            fork_workers = os.environ.get("LOCAL_WORKERS_FORK", "1") != "0"
        self.fork_server = self._fork_server(python) if fork_workers else None
        self._fork_refusals: dict[str, str | None] = {}  # by function: why it is not forked (None: it is)
        self._folders: dict[Path, FolderContents] = {}  # listed once: fork_refusal reads them per function

    def _fork_server(self, python: str) -> ForkServer:
        """A fork server that imports the common libraries from the build most functions share (their
        requirements', their layers' and the runtime's folders), so their forked workers run exactly those;
        from the local cloud's own packages when no function was built (specs made by hand)."""
        builds = Counter(
            (spec.package_dirs + spec.layer_dirs, spec.runtime_dirs)
            for spec in self.functions.values()
            if spec.runtime_dirs is not None
        )
        if not builds:
            return ForkServer(python)
        # the most common; of equally common ones the smallest (the runtime's packages alone, when it is one)
        path, runtime = max(builds, key=lambda build: (builds[build], -len(build[0])))
        return ForkServer(python, path=path, runtime=runtime or ())

    # ---------------------------------------------------------------- public API

    def resolve(self, name_or_arn: str) -> FunctionSpec:
        """Name, full or partial ARN, with an optional qualifier ($LATEST, a version number or an alias),
        to the version of the function it names; FunctionNotFound for an unknown function or qualifier."""
        spec = self._names.get(name_or_arn)
        if spec is not None:
            return spec
        parts = name_or_arn.split(":")
        if parts[0] == "arn" and len(parts) in (7, 8) and parts[2] == "lambda" and parts[5] == "function":
            name, qualifier = parts[6], parts[7] if len(parts) == 8 else None
            if parts[3] != self.endpoints.region:
                raise FunctionNotFound(name_or_arn)
        elif len(parts) in (3, 4) and parts[1] == "function":  # 123456789012:function:name[:qualifier]
            name, qualifier = parts[2], parts[3] if len(parts) == 4 else None
        elif len(parts) == 2:  # name:qualifier
            name, qualifier = parts
        else:
            raise FunctionNotFound(name_or_arn)
        spec = self._names.get(name)
        if spec is None:
            raise FunctionNotFound(name_or_arn)
        if qualifier is None:
            return spec
        version = self._qualified.get((spec.name, qualifier))
        if version is None:
            raise FunctionNotFound(name_or_arn)
        return version

    def invoked_arn(self, name_or_arn: str, spec: FunctionSpec) -> str:
        """The ARN an invocation names (the context's invoked_function_arn): qualified as the caller qualified it."""
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        reference = function_reference(name_or_arn)
        return f"{spec.arn}:{reference.split(':', 1)[1]}" if ":" in reference else spec.arn

    def entry_points(self) -> list[str]:
        """What to warm: per function, the versions its aliases point at (what the API and event sources
        call when the template publishes aliases), else $LATEST."""
        aliased = {alias.function_name: f"{alias.function_name}:{alias.name}" for alias in self.aliases}
        return [aliased.get(name, name) for name in self.functions]

    async def invoke(
        self,
        name_or_arn: str,
        payload: bytes,
        *,
        request_id: str | None = None,
        capture_log: bool = False,
    ) -> InvokeResult:
        """A RequestResponse invocation. Errors of the function come back as a result, not an exception."""
        spec = self.resolve(name_or_arn)
        self.activity.invocation_started()
        try:
            return await self._invoke(spec, name_or_arn, payload, request_id, capture_log)
        finally:
            self.activity.invocation_ended()

    async def _invoke(
        self, spec: FunctionSpec, name_or_arn: str, payload: bytes, request_id: str | None, capture_log: bool
    ) -> InvokeResult:
        pool = self._pools.get((spec.name, spec.version)) or self._pool(spec)
        request_id = request_id or str(uuid.uuid4())
        try:
            worker = pool.idle.pop() if pool.idle else await pool.acquire()
        except (WorkerStartError, OSError) as error:
            pool.invocations += 1
            pool.errors += 1
            message = f"RequestId: {request_id} Error: {error}"
            pool.function_log.runtime_lines(f"{message}\nRuntime.ExitError\n", request_id, logging.ERROR)
            return InvokeResult(_error_payload("Runtime.ExitError", message, request_id), "Unhandled", request_id, 0.0)
        invoked_arn = self.invoked_arn(name_or_arn, spec)
        die_after = self.faults is not None and self.faults.kill_next(spec.name)
        return await worker.invoke(request_id, payload, invoked_arn, capture_log, die_after)

    async def invoke_event(self, name_or_arn: str, payload: bytes) -> str:
        """An Event invocation: queued, run in the background, retried twice on error like Lambda's."""
        spec = self.resolve(name_or_arn)
        request_id = str(uuid.uuid4())
        self.background(self._run_event(spec, name_or_arn, payload, request_id))
        return request_id

    async def prewarm(self, names: Iterable[str] | None = None) -> None:
        """Start one worker per function (the cold starts happen now rather than on first request)."""
        specs = [self.resolve(name) for name in names] if names is not None else list(self.functions.values())

        async def warm(spec: FunctionSpec) -> None:
            pool = self._pools.get((spec.name, spec.version)) or self._pool(spec)
            if pool.workers:
                return
            try:
                pool.release(await pool.acquire())
            except (WorkerStartError, OSError) as error:
                log.error("%s: could not start a worker: %s", spec.name, error)

        await asyncio.gather(*(warm(spec) for spec in {(spec.name, spec.version): spec for spec in specs}.values()))

    async def close(self) -> None:
        """Kill every worker and wait for them to exit: no process is left behind."""
        self.closing = True
        if self._reaper is not None:
            self._reaper.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        workers = [worker for pool in self._pools.values() for worker in pool.workers]
        for pool in self._pools.values():
            for waiter in pool.waiters:
                if not waiter.done():
                    waiter.set_exception(WorkerStartError("the runtime is shutting down"))
        for worker in workers:
            worker.kill()
        closing = [worker.closed for worker in workers if worker.transport is not None]
        if closing:
            await asyncio.wait(closing, timeout=5)
        if self.fork_server is not None:
            self.fork_server.close()
        for function_log in self._logs.values():
            function_log.close()

    def stats(self) -> dict[str, dict[str, int]]:
        """Per function, its versions' pools added up."""
        empty = {"warm": 0, "busy": 0, "idle": 0, "queued": 0, "invocations": 0, "errors": 0, "coldStarts": 0}
        totals = {spec.name: dict(empty) for spec in self.functions.values()}
        for (name, _), pool in self._pools.items():
            for key, value in pool.stats().items():
                totals[name][key] += value
        return totals

    def log_path(self, name_or_arn: str) -> Path | None:
        return self._logs[self.resolve(name_or_arn).name].path

    # ---------------------------------------------------------------- internals

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """Everything a worker sees: the template's variables, the local endpoints and Lambda's own."""
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        return {
            **self.endpoints.aws_environment(),
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": os.pathsep.join([str(Path(self.python).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            "AWS_SAM_LOCAL": "true",  # powertools Tracer stays off, as under `sam local`
            "PYTHONUNBUFFERED": "1",
        }

    async def start_process(
        self, protocol_factory: Callable[[], asyncio.SubprocessProtocol], spec: FunctionSpec
    ) -> tuple[asyncio.SubprocessTransport | ForkedTransport, str]:
        """A worker process running worker_bootstrap.py: forked from the fork server (infra/awslambda/worker_zygote.py,
        the libraries already imported) when the function's build has those libraries at the same versions, or
        else started by exec like any subprocess. Also returns which, for the INIT_START line."""
        path = {"path": [str(folder) for folder in (*spec.package_dirs, *spec.layer_dirs)],
                "runtime": None if spec.runtime_dirs is None else [str(folder) for folder in spec.runtime_dirs]}
        how = "exec (the fork server failed)" if self.fork_server is not None else "exec (LOCAL_WORKERS_FORK=0)"
        if self.fork_server is not None and not self.fork_server.broken:
            try:
                await self.fork_server.start()
                refusal = self._fork_refusal(spec)
                if refusal is None:
                    config = json.dumps({**path, "parent_pid": self.fork_server.pid, **self._faults_config()})
                    environment, cwd = self.environment(spec), str(spec.code_dir)
                    return await self.fork_server.spawn(protocol_factory, config, environment, cwd), "forked"
                how = f"exec ({refusal})"
            except ForkServerError as error:
                log.warning("%s: %s; starting the worker by exec", spec.name, error)
        config = json.dumps({**path, "parent_pid": os.getpid(), **self._faults_config()})
        # -S: none of the local cloud's site-packages; the bootstrap puts the function's own path in their place
        site_flag = "-s" if spec.runtime_dirs is None else "-S"
        transport, _ = await asyncio.get_running_loop().subprocess_exec(
            protocol_factory,
            self.python, site_flag, str(BOOTSTRAP), config,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(spec.code_dir), env=self.environment(spec), start_new_session=True,
        )  # fmt: skip
        return transport, how

    def _fork_refusal(self, spec: FunctionSpec) -> str | None:
        """Why a worker of `spec` must not be forked (None: it may): the fork server imported a module that the
        function's path would not import at the same version (absent, or another version comes first), and the
        fork would run it with the fork server's. Functions without a build (runtime_dirs None, specs made by
        hand) share a fork server with the local cloud's packages, and only such."""
        assert self.fork_server is not None
        if (spec.runtime_dirs is None) != (self.fork_server.path is None):
            return "the fork server imports from the local cloud's packages" if spec.runtime_dirs else "not built"
        if spec.runtime_dirs is None:
            return None
        if spec.name not in self._fork_refusals:
            folders = (*spec.python_path, *spec.runtime_dirs)
            self._fork_refusals[spec.name] = fork_refusal(folders, self.fork_server.preloaded, self._folders)
        return self._fork_refusals[spec.name]

    def _faults_config(self) -> dict[str, Any]:
        return {"faults": self.faults.worker_config()} if self.faults is not None else {}

    def _pool(self, spec: FunctionSpec) -> _Pool:
        if self.closing:
            raise WorkerStartError("the runtime is shutting down")
        limit = self.max_workers_per_function
        if spec.reserved_concurrency is not None:
            limit = min(limit, max(spec.reserved_concurrency, 1))
        pool = _Pool(self, spec, limit, self._logs[spec.name])
        self._pools[(spec.name, spec.version)] = pool
        if self._reaper is None:
            self._schedule_reaper()
        return pool

    def _schedule_reaper(self) -> None:
        interval = max(self.idle_timeout_seconds / 4, 1.0)
        self._reaper = asyncio.get_running_loop().call_later(interval, self._reap)

    def _reap(self) -> None:
        cutoff = time.monotonic() - self.idle_timeout_seconds
        for pool in self._pools.values():
            pool.reap(cutoff)
        if not self.closing:
            self._schedule_reaper()

    def background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_event(self, spec: FunctionSpec, name_or_arn: str, payload: bytes, request_id: str) -> None:
        attempts = 1 + len(self.event_retry_delays)
        for attempt in range(attempts):
            result = await self.invoke(name_or_arn, payload, request_id=request_id)
            if result.function_error is None:
                return
            if attempt < len(self.event_retry_delays):
                log.warning(
                    "%s: event %s failed (attempt %d of %d), retrying in %.1f s",
                    spec.name, request_id, attempt + 1, attempts, self.event_retry_delays[attempt],
                )  # fmt: skip
                await asyncio.sleep(self.event_retry_delays[attempt])
        log.error(
            "%s: event %s failed %d times and is dropped: %s", spec.name, request_id, attempts, result.payload[:500]
        )
