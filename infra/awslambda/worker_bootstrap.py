"""The child side of a function worker: a Lambda-like runtime loop in its own process.

Started by infra.awslambda.workers as `python -S worker_bootstrap.py CONFIG_JSON` (-s for a function the local
cloud did not build) with cwd = the function's code folder and an environment that holds only what Lambda
would set; CONFIG_JSON's path and runtime are the function's sys.path (`_set_path`). The parent talks to it
over two pipes with length-prefixed frames (the formats are defined in infra.awslambda.workers and repeated
here, because this file must run without the infra package on sys.path):

    parent -> child  INVOKE  >QIHHB deadline_epoch_ms, payload_len, request_id_len, arn_len, flags
                             + request_id + invoked_arn + payload (JSON bytes); flags: DIE_AFTER (the
                             fault lambda.kill: exit once the handler has run, its answer unsent)
    child -> parent  >BIdI   kind, max_rss_kb, duration_ms, body_len + body
                             kind READY (after init; body = init error JSON or empty),
                             OK (body = the handler's JSON result) or ERROR (body = error JSON)

Only the standard library is used, and nothing is imported that the handler would not expect.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from struct import Struct
from typing import Any, BinaryIO

INVOKE = Struct(">QIHHB")
RESPONSE = Struct(">BIdI")
READY, OK, ERROR = 1, 2, 3
DIE_AFTER = 1

_OWN_FILE = os.path.abspath(__file__)
_OWN_DIR = os.path.dirname(_OWN_FILE)

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The context object of the Python runtime (awslambdaric's LambdaContext), same attribute names."""

    __slots__ = (
        "_deadline_ms",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(self, request_id: str, deadline_ms: int, invoked_arn: str) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self._deadline_ms = deadline_ms
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a str, as on AWS
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self.tenant_id = None

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        sys.stdout.write(message)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name},"
            f"function_version={self.function_version},invoked_function_arn={self.invoked_function_arn}])"
        )


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


_request_filter = _RequestIdFilter()


def _install_root_handler() -> None:
    """The Python runtime's root handler: `[LEVEL]\\t<time>Z\\t<requestId>\\t<message>` on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_request_filter)
    logging.getLogger().addHandler(handler)


class InitError(Exception):
    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.stack = stack or []


def _user_frames(tb: Any) -> list[str]:
    """The stack trace as awslambdaric reports it: the runtime's own frames dropped."""
    frames = [frame for frame in traceback.extract_tb(tb) if frame.filename != _OWN_FILE]
    return traceback.format_list(frames)


def _load_handler(spec: str) -> Handler:
    module_name, _, attribute = spec.rpartition(".")
    if not module_name or not attribute:
        raise InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    module_name = module_name.replace("/", ".")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise InitError(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}") from error
    except SyntaxError as error:
        stack = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}", stack
        ) from error
    handler = getattr(module, attribute, None)
    if handler is None:
        raise InitError("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'")
    return handler  # type: ignore[no-any-return]


def _decimal_default(value: Any) -> Any:
    # awslambdaric serialises Decimal (what boto3's DynamoDB resource returns) as a number.
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _log_error(error_type: str, message: str, stack: list[str]) -> None:
    """Write an unhandled error the way the Python runtime logs it: `[ERROR] Type: message` + traceback."""
    lines = [f"[ERROR] {error_type}: {message}" if message else f"[ERROR] {error_type}"]
    if stack:
        lines.append("Traceback (most recent call last):")
        for entry in stack:
            lines.extend(entry.rstrip("\n").splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


def _error_body(error_type: str, message: str, stack: list[str], request_id: str) -> bytes:
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}
    ).encode()


class Runtime:
    def __init__(self, frames_in: BinaryIO, frames_out: int, faults: Any = None) -> None:
        self.frames_in = frames_in
        self.frames_out = frames_out
        self.handler: Handler | None = None
        self.init_error: InitError | None = None
        self.faults = faults  # infra/faults/worker.py's WorkerFaults, when the cloud injects faults

    def send(self, kind: int, duration_ms: float, body: bytes) -> None:
        max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        data = memoryview(RESPONSE.pack(kind, max_rss_kb, duration_ms, len(body)) + body)
        while data:
            written = os.write(self.frames_out, data)
            data = data[written:]

    def init(self, handler_spec: str) -> None:
        started = time.perf_counter()
        try:
            self.handler = _load_handler(handler_spec)
        except InitError as error:
            self.init_error = error
            _log_error(error.error_type, str(error), error.stack)
        except Exception as error:
            # Module-level code that raises: the runtime reports the exception type itself.
            self.init_error = InitError(type(error).__name__, str(error), _user_frames(error.__traceback__))
            _log_error(self.init_error.error_type, str(error), self.init_error.stack)
        _flush_std()
        body = b""
        if self.init_error is not None:
            body = _error_body(self.init_error.error_type, str(self.init_error), self.init_error.stack, "")
        self.send(READY, (time.perf_counter() - started) * 1000, body)

    def serve(self) -> None:
        read = self.frames_in.read
        header_size = INVOKE.size
        while True:
            header = read(header_size)
            if len(header) < header_size:
                return  # the parent closed the pipe: the environment is being shut down
            deadline_ms, payload_len, rid_len, arn_len, flags = INVOKE.unpack(header)
            rest = read(rid_len + arn_len + payload_len)
            request_id = rest[:rid_len].decode()
            invoked_arn = rest[rid_len : rid_len + arn_len].decode()
            self.invoke(request_id, invoked_arn, deadline_ms, rest[rid_len + arn_len :], flags)

    def invoke(self, request_id: str, invoked_arn: str, deadline_ms: int, payload: bytes, flags: int = 0) -> None:
        started = time.perf_counter()
        if self.faults is not None:
            self.faults.refresh()
        _request_filter.request_id = request_id
        os.environ["_X_AMZN_TRACE_ID"] = _trace_id()
        kind, body, step = OK, b"", os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        if self.handler is None:
            # Lambda retries a failed init on every invocation, so the error shows in each one's log.
            error = self.init_error
            assert error is not None
            _log_error(error.error_type, str(error), error.stack)
            kind, body = ERROR, _error_body(error.error_type, str(error), error.stack, request_id)
        else:
            try:
                event = json.loads(payload) if payload else {}
            except ValueError as exc:
                kind = ERROR
                body = _error_body("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}", [], request_id)
            else:
                if isinstance(event, dict) and isinstance(event.get("action"), str):
                    step = f"{step}:{event['action']}"  # a saga task: its calls counted per step
                kind, body = self._call(self.handler, event, LambdaContext(request_id, deadline_ms, invoked_arn))
        _flush_std()
        if self.faults is not None:
            self.faults.flush_calls(step)
        if flags & DIE_AFTER:
            os._exit(1)  # the handler's writes are done and its answer is lost: Runtime.ExitError, exit status 1
        self.send(kind, (time.perf_counter() - started) * 1000, body)

    @staticmethod
    def _call(handler: Handler, event: Any, context: LambdaContext) -> tuple[int, bytes]:
        try:
            result = handler(event, context)
        except Exception as error:
            stack = _user_frames(error.__traceback__)
            error_type = type(error).__name__
            _log_error(error_type, str(error), stack)
            return ERROR, _error_body(error_type, str(error), stack, context.aws_request_id)
        try:
            return OK, json.dumps(result, default=_decimal_default).encode()
        except (TypeError, ValueError) as error:
            message = f"Unable to marshal response: {error}"
            _log_error("Runtime.MarshalError", message, [])
            return ERROR, _error_body("Runtime.MarshalError", message, [], context.aws_request_id)


def _trace_id() -> str:
    # An X-Ray header like Lambda's, unsampled: powertools Logger reads it for xray_trace_id.
    now = int(time.time())
    return f"Root=1-{now:08x}-{os.urandom(12).hex()};Parent={os.urandom(8).hex()};Sampled=0;Lineage=1"


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the handler closed or replaced it
            stream.flush()


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this worker when the local cloud dies, even if a handler never returns."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass  # not Linux: the closed frame pipe still ends an idle worker
    if os.getppid() != parent_pid:
        os._exit(0)


def _set_path(task_root: str, path: list[str], runtime: list[str] | None) -> None:
    """sys.path as on Lambda: the function's code (/var/task), its built requirements and its layers
    (/opt/python), the standard library, then what the runtime itself provides (boto3, botocore). There are
    no site-packages to remove: such a worker runs with -S, or is forked from a fork server that did (the
    parent forks it only then). With runtime None (a function the local cloud did not build) the local
    cloud's site-packages stay, last."""
    placed = {*path, *(runtime or ())}
    rest = [entry for entry in sys.path if entry and os.path.abspath(entry) not in (_OWN_DIR, task_root)
            and entry not in placed]  # fmt: skip
    sys.path[:] = [task_root, *path, *rest, *(runtime or ())]


def _route_old_sdks() -> None:
    """botocore reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> since 1.31; an older botocore that a
    function bundles would call AWS itself. For one, every client created without an endpoint_url gets the
    one those variables name, as a newer botocore would pick it (the service's variable, then the global one)."""
    import importlib.util

    found = importlib.util.find_spec("botocore")
    if found is None or found.origin is None:
        return
    version_file = os.path.join(os.path.dirname(found.origin), "__init__.py")
    with open(version_file, encoding="utf-8") as source:
        assignment = next((line for line in source if line.startswith("__version__")), "=")
    version = assignment.split("=", 1)[1].strip().strip("'\"")
    try:
        if tuple(int(part) for part in version.split(".")[:2]) >= (1, 31):
            return
    except ValueError:
        return
    import botocore.session

    create_client = botocore.session.Session.create_client

    def create_local_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if len(args) < 5 and kwargs.get("endpoint_url") is None:  # endpoint_url: the 5th after service_name
            service_id = self.get_service_model(service_name).service_id
            variable = "AWS_ENDPOINT_URL_" + str(service_id).replace(" ", "_").upper()
            kwargs["endpoint_url"] = os.environ.get(variable) or os.environ.get("AWS_ENDPOINT_URL")
        return create_client(self, service_name, *args, **kwargs)

    botocore.session.Session.create_client = create_local_client  # type: ignore[method-assign]


def _load_faults(config: dict[str, str]) -> Any:
    """infra/faults/worker.py, loaded by path under a private name (handlers cannot import it), installed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_local_cloud_faults", config["module"])
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.install(config["spec_file"], config["counts_file"], config.get("calls_file", ""),
                          config.get("buckets_file", ""))  # fmt: skip


def main() -> None:
    config = json.loads(sys.argv[1])
    _die_with_parent(int(config["parent_pid"]))

    # Frames travel on private copies of fds 0 and 1; the handler's stdin reads nothing and its stdout
    # (print) joins stderr, which the parent turns into the function's log.
    frames_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    frames_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)

    _set_path(os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()), list(config.get("path", ())), config.get("runtime"))
    _install_root_handler()
    if config.get("runtime") is not None:
        _route_old_sdks()
    # Before the handler is imported, so that clients created at import time are hooked too.
    faults = _load_faults(config["faults"]) if config.get("faults") else None
    runtime = Runtime(frames_in, frames_out, faults)
    runtime.init(os.environ.get("_HANDLER", ""))
    runtime.serve()


if __name__ == "__main__":
    main()
