"""The parent side of infra/awslambda/worker_zygote.py: spawn workers by fork instead of by exec.

ForkServer.spawn() gives the same thing as `loop.subprocess_exec(...)` with three pipes, as far as
infra.awslambda.workers uses it: a transport with get_pid / get_pipe_transport(0) / get_returncode / close, and
the protocol's pipe_data_received, pipe_connection_lost and process_exited callbacks. The zygote reports
each worker's exit over its socket; if the zygote itself dies, every worker it forked dies with it
(PDEATHSIG) and is reported here as killed.

Why not the standard library's multiprocessing forkserver: it runs Python callables in its children and
owns their exit codes, while workers here are processes with their own pipes, session and environment,
watched by the asyncio loop like any subprocess.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import functools
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("infra.awslambda")

ZYGOTE = Path(__file__).resolve().with_name("worker_zygote.py")
MAX_MESSAGE = 1 << 20
READY_TIMEOUT_SECONDS = 30.0
# What (nearly) every handler imports. The zygote imports them once; a library that is missing is skipped.
PRELOAD = (
    "boto3", "botocore.client", "pydantic", "pynamodb.models", "pynamodb.attributes", "pynamodb.exceptions",
    "aws_lambda_powertools", "aws_lambda_powertools.logging", "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.params", "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.utilities.typing",
)  # fmt: skip


class ForkServerError(Exception):
    pass


class _ReadPipe(asyncio.Protocol):
    def __init__(self, transport: ForkedTransport, fd: int) -> None:
        self.owner = transport
        self.fd = fd

    def data_received(self, data: bytes) -> None:
        self.owner.protocol.pipe_data_received(self.fd, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.protocol.pipe_connection_lost(self.fd, exc)


class ForkedTransport:
    """The subset of asyncio.SubprocessTransport that infra.awslambda.workers uses, for a forked worker."""

    def __init__(self, pid: int) -> None:
        self.protocol = asyncio.SubprocessProtocol()  # replaced by the worker's in spawn()
        self.pid = pid
        self.returncode: int | None = None
        self.pipes: dict[int, asyncio.BaseTransport] = {}
        self.connected = False
        self._early_exit: int | None = None

    def get_pid(self) -> int:
        return self.pid

    def get_pipe_transport(self, fd: int) -> asyncio.BaseTransport:
        return self.pipes[fd]

    def get_returncode(self) -> int | None:
        return self.returncode

    def close(self) -> None:
        for pipe in self.pipes.values():
            pipe.close()

    def exited(self, returncode: int) -> None:
        if not self.connected:  # as asyncio does: nothing reaches the protocol before spawn() returned
            self._early_exit = returncode
        elif self.returncode is None:
            self.returncode = returncode
            self.protocol.process_exited()

    def connection_complete(self, loop: asyncio.AbstractEventLoop) -> None:
        self.connected = True
        if self._early_exit is not None:
            loop.call_soon(self.exited, self._early_exit)


class ForkServer:
    """One zygote process per runtime; started on first use and stopped with the runtime."""

    def __init__(
        self, python: str, preload: Iterable[str] = PRELOAD, *, path: Sequence[Path] | None = None,
        runtime: Sequence[Path] = (),
    ) -> None:  # fmt: skip
        """`path` and `runtime`: the build folders and the Lambda runtime's packages the zygote imports from
        (a function's sys.path without its code), instead of this interpreter's site-packages."""
        self.python = python
        self.preload = tuple(preload)
        self.path = [str(folder) for folder in path] if path is not None else None
        self.runtime = [str(folder) for folder in runtime]
        # {top-level module: (distribution, version)} the zygote imported, known once it is ready
        self.preloaded: dict[str, tuple[str, str]] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.broken: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._ready: asyncio.Future[None] | None = None
        self._pending: dict[int, asyncio.Future[ForkedTransport]] = {}
        self._children: dict[int, ForkedTransport] = {}  # created when the zygote answers, so no exit is missed
        self._starting: asyncio.Future[None] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)

    async def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = json.dumps({"parent_pid": os.getpid(), "preload": list(self.preload), "control_fd": theirs.fileno(),
                             "path": self.path, "runtime": self.runtime})  # fmt: skip
        try:
            self.process = subprocess.Popen(
                [self.python, "-s" if self.path is None else "-S", "-u", str(ZYGOTE), config],
                stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), start_new_session=True,
                env=_zygote_environment(),
            )  # fmt: skip
        finally:
            theirs.close()
        self.sock = ours
        ours.setblocking(False)
        self._ready = self._loop.create_future()
        self._loop.add_reader(ours.fileno(), self._readable)
        try:
            await asyncio.wait_for(self._ready, READY_TIMEOUT_SECONDS)
        except (TimeoutError, ForkServerError) as error:
            self._break(f"the worker fork server did not start: {error}")
            raise ForkServerError(self.broken) from None

    async def spawn(self, protocol_factory: Callable[[], asyncio.SubprocessProtocol], argv: str,
                    env: Mapping[str, str], cwd: str) -> ForkedTransport:  # fmt: skip
        """Fork a worker running worker_bootstrap.py with `argv` as its argument; like subprocess_exec."""
        if self.broken:
            raise ForkServerError(self.broken)
        await self.start()
        assert self._loop is not None
        assert self.sock is not None
        child_in, to_child = os.pipe()
        from_child, child_out = os.pipe()
        logs_in, child_err = os.pipe()
        request_id = next(self._ids)
        answer: asyncio.Future[ForkedTransport] = self._loop.create_future()
        self._pending[request_id] = answer
        message = json.dumps({"id": request_id, "env": dict(env), "cwd": cwd, "argv": argv}).encode()
        fds = array.array("i", [child_in, child_out, child_err])
        try:
            await self._send(message, fds)
            transport = await answer
        except BaseException:
            self._pending.pop(request_id, None)
            for fd in (to_child, from_child, logs_in):
                os.close(fd)
            raise
        finally:
            for fd in (child_in, child_out, child_err):
                os.close(fd)
        transport.protocol = protocol_factory()  # before the pipes: their data goes to it
        # The pipe transports own (and close) these file objects, as asyncio's subprocess transport does.
        writer, _ = await self._loop.connect_write_pipe(asyncio.Protocol, open(to_child, "wb", buffering=0))  # noqa: SIM115
        transport.pipes[0] = writer
        for fd, source in ((1, from_child), (2, logs_in)):
            pipe = open(source, "rb", buffering=0)  # noqa: SIM115
            reader, _ = await self._loop.connect_read_pipe(functools.partial(_ReadPipe, transport, fd), pipe)
            transport.pipes[fd] = reader
        transport.connection_complete(self._loop)
        return transport

    async def _send(self, message: bytes, fds: array.array[int]) -> None:
        assert self.sock is not None
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())]
        deadline = time.monotonic() + 5
        while True:
            try:
                self.sock.sendmsg([message], ancillary)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ForkServerError("the worker fork server does not take requests") from None
                await asyncio.sleep(0.001)
            except OSError as error:
                self._break(f"the worker fork server is gone: {error}")
                raise ForkServerError(self.broken) from error

    def _readable(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data = self.sock.recv(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError as error:
                self._break(f"the worker fork server is gone: {error}")
                return
            if not data:
                self._break("the worker fork server exited")
                return
            self._handle(json.loads(data))

    def _handle(self, message: dict[str, Any]) -> None:
        if "ready" in message:
            self.preloaded = {module: (found[0], found[1]) for module, found in message.get("preloaded", {}).items()}
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
        elif "exited" in message:
            transport = self._children.pop(int(message["exited"]), None)
            if transport is not None:
                transport.exited(int(message["returncode"]))
        else:
            future = self._pending.pop(int(message["id"]), None)
            if "error" in message:
                if future is not None and not future.done():
                    future.set_exception(ForkServerError(f"fork failed: {message['error']}"))
                return
            transport = ForkedTransport(int(message["pid"]))
            self._children[transport.pid] = transport
            if future is not None and not future.done():
                future.set_result(transport)

    def _break(self, reason: str, *, expected: bool = False) -> None:
        if self.broken:
            return
        self.broken = reason
        if not expected:
            log.warning("%s; workers start by exec from now on", reason)
        if self._loop is not None and self.sock is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self.sock.fileno())
        for future in [self._ready, *self._pending.values()]:
            if future is not None and not future.done():
                future.set_exception(ForkServerError(reason))
        self._pending.clear()
        # The zygote's workers die with it (PDEATHSIG): report them as killed.
        children, self._children = self._children, {}
        for transport in children.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(transport.pid, signal.SIGKILL)
            transport.exited(-signal.SIGKILL)

    def close(self) -> None:
        """Stop the zygote (its workers die with it); spawn() fails from now on."""
        self._break("the worker fork server was closed", expected=True)
        if self.sock is not None:
            self.sock.close()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)


def _zygote_environment() -> dict[str, str]:
    """What the interpreter needs to start; each worker gets its own environment when it is forked."""
    keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("LANG", "en_US.UTF-8")
    if sys.flags.utf8_mode:
        env["PYTHONUTF8"] = "1"
    return env
