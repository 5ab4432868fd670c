"""The fork server of function workers: one process that imports the libraries every handler imports
(boto3, pydantic, pynamodb, powertools) once, then forks a worker per request.

It imports them from what most functions are built with (their layers' and requirements' build folders and
the runtime's packages, CONFIG_JSON's path and runtime; the local cloud's own packages only when none is
given) and reports which distributions, at which versions, it imported: a function whose build does not
have exactly those gets a worker started by exec instead (infra.awslambda.workers).

Starting a worker with `python worker_bootstrap.py` spends ~0.3 s of CPU importing those libraries, once
per worker, 19 functions and every scale-up; a fork starts from them already imported and shares their
memory. Started by infra.awslambda.forkserver as `python -s -u worker_zygote.py CONFIG_JSON` (-S instead of -s
with a path: no site-packages) with a SOCK_SEQPACKET
socket (its fd is CONFIG_JSON's control_fd), over which it takes requests and reports what happened:

    parent -> zygote  {"id", "env", "cwd", "argv"} + 3 fds (the worker's stdin, stdout and stderr)
    zygote -> parent  {"ready": pid, "preloaded": {module: [distribution, version]}}   once, at start
                      {"id", "pid"} | {"id", "error"}     once per request, in order
                      {"exited": pid, "returncode": n}   when a worker exits (negative: killed by signal n)

The child becomes what `python -s worker_bootstrap.py ARGV` would be: its own session, the given fds on
0/1/2, the given cwd and exactly the given environment; then worker_bootstrap.main() runs and the child
exits without ever returning here. When the parent closes the socket the zygote exits, and its workers
with it (they ask Linux to kill them when the zygote dies). Only the standard library is used here.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from typing import Any

PR_SET_NAME = 15
MAX_MESSAGE = 1 << 20


def _name_process(function_name: str) -> None:
    """What `ps -o comm` and top show (15 bytes): the worker's command line is the fork server's."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, function_name.encode()[:15], 0, 0, 0)


def _receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    fds = array.array("i")
    data, ancillary, _, _ = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(3 * fds.itemsize))
    if not data:
        return None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return json.loads(data), list(fds)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.send(json.dumps(message).encode())


def _become_worker(request: dict[str, Any], fds: list[int], closing: list[int], bootstrap: Any) -> None:
    """Runs in the forked child; never returns."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in closing:
            os.close(fd)
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()  # TZ is the worker's now
        _name_process(request["env"].get("AWS_LAMBDA_FUNCTION_NAME", "worker"))
        sys.argv = [bootstrap.__file__, request["argv"]]
        sys.modules.pop(bootstrap.__name__, None)  # not importable by handlers, as under exec
        bootstrap.main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # the child reports anything on its own stderr and exits
        with contextlib.suppress(Exception):
            os.write(2, traceback.format_exc().encode())
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"exited": pid, "returncode": os.waitstatus_to_exitcode(status)})


def _preloaded_distributions(before: set[str]) -> dict[str, list[str]]:
    """{top-level module: [distribution, version]} of what preloading imported (modules of no distribution,
    the standard library's, left out): the parent forks a function's worker only if its build has the same."""
    from importlib import metadata

    owners = metadata.packages_distributions()
    found = {}
    for name in {module.partition(".")[0] for module in sys.modules if module not in before}:
        distributions = set(owners.get(name, ()))
        if len(distributions) == 1:  # a namespace shared by several distributions has no one version
            distribution = distributions.pop()
            found[name] = [distribution, metadata.version(distribution)]
    return found


def main() -> None:
    config = json.loads(sys.argv[1])
    import worker_bootstrap  # next to this file: sys.path[0]; standard library only

    worker_bootstrap._die_with_parent(int(config["parent_pid"]))  # the workers call it too, after the fork
    sock = socket.socket(fileno=int(config["control_fd"]))
    if config.get("path") is not None:  # started with -S: the functions' shared build and the runtime's packages
        sys.path[1:] = [*config["path"], *sys.path[1:], *config["runtime"]]
    before = set(sys.modules)
    for name in config.get("preload", ()):
        with contextlib.suppress(Exception):  # a library a handler does not have is its own business
            importlib.import_module(name)
    preloaded = _preloaded_distributions(before)

    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd does the work
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    _send(sock, {"ready": os.getpid(), "preloaded": preloaded})
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                received = _receive(sock)
                if received is None:
                    os._exit(0)  # the parent is gone or done: the workers follow (PDEATHSIG)
                request, fds = received
                sys.stdout.flush()
                sys.stderr.flush()
                try:
                    pid = os.fork()
                except OSError as error:
                    _send(sock, {"id": request["id"], "error": str(error)})
                    pid = -1
                if pid == 0:
                    _become_worker(request, fds, [sock.fileno(), wake_read, wake_write], worker_bootstrap)
                for fd in fds:
                    os.close(fd)
                if pid > 0:
                    _send(sock, {"id": request["id"], "pid": pid})
            else:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 512)
        _reap(sock)


if __name__ == "__main__":
    main()
