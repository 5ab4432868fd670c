"""Function logs: what CloudWatch Logs would hold, as files, and a readable echo on the console.

Each worker's stdout+stderr arrives here in chunks. Complete lines are appended verbatim to
`<log_dir>/<FunctionName>.log` (with the runtime's START/END/REPORT lines around each invocation, like a
log group), and echoed through the logger "infra.functions" as

    CatalogFunction INFO <message> key=value ... [requestId]

for JSON lines from powertools Logger (or Lambda's JSON log format), and `CatalogFunction <line>` for
plain lines; the console handler's formatter adds the time (`%(asctime)s.%(msecs)03d %(message)s` gives
`HH:MM:SS.mmm CatalogFunction INFO ...`). Records carry `function` and `request_id` extras.

The level of plain lines comes from the runtime's `[LEVEL]` prefix; tracebacks count as ERROR. The
console stays quiet by default: "infra.functions" starts at WARNING (function warnings, errors and
tracebacks); `set_console_level(logging.INFO)` shows every line, DEBUG adds START/END/REPORT.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("infra.functions")
if log.level == logging.NOTSET:
    log.setLevel(logging.WARNING)

_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
    "FATAL": logging.CRITICAL,
}
_JSON_LEVEL = re.compile(r'"level"\s*:\s*"(\w+)"')
_RUNTIME_LINE = re.compile(r"\[(\w+)\][\t ](.*)")  # "[ERROR]\t<time>Z\t<requestId>\t<message>" or "[ERROR] Type: msg"
_TRACEBACK_HEAD = "Traceback (most recent call last):"
_CHAIN_LINES = ("During handling of the above exception", "The above exception was the direct cause")
# Keys every powertools/Lambda JSON line carries: shown elsewhere in the rendered line, or noise.
_HIDDEN_KEYS = frozenset(
    {
        "level", "message", "timestamp", "time", "service", "location", "cold_start", "function_name",
        "function_memory_size", "function_arn", "function_request_id", "xray_trace_id", "sampling_rate",
        "requestId", "logger", "exception", "exception_name", "stack_trace", "errorType", "errorMessage",
        "stackTrace",
    }
)  # fmt: skip


def set_console_level(level: int) -> None:
    """How much of the functions' output reaches the console (the log files always get everything)."""
    log.setLevel(level)


class FunctionLog:
    """The log of one function: shared by all its workers."""

    def __init__(self, function_name: str, log_dir: Path | None) -> None:
        self.function_name = function_name
        self._fd: int | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self.path: Path | None = log_dir / f"{function_name}.log"
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        else:
            self.path = None

    def stream(self) -> LogStream:
        """A line splitter for one worker's output."""
        return LogStream(self)

    def write(self, data: bytes) -> None:
        if self._fd is not None and data:
            os.write(self._fd, data)

    def runtime_lines(self, text: str, request_id: str | None, level: int = logging.DEBUG) -> None:
        """START/END/REPORT and the runtime's own error lines: to the file, and the console at `level`."""
        self.write(text.encode())
        if log.isEnabledFor(level):
            for line in text.splitlines():
                log.log(level, "%s %s", self.function_name, line, extra=_extra(self.function_name, request_id))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class LogStream:
    """Splits one worker's output into lines, files them, and echoes them with their level."""

    __slots__ = ("_block", "_log", "_partial")

    # What the lines after an error belong to: nothing, a Python traceback (which ends with its exception
    # line), or the runtime's "[ERROR] Type: message" report (whose traceback has no closing line).
    NONE, PYTHON_TRACEBACK, RUNTIME_ERROR = 0, 1, 2

    def __init__(self, function_log: FunctionLog) -> None:
        self._log = function_log
        self._partial = b""
        self._block = LogStream.NONE

    def feed(self, data: bytes, request_id: str | None, capture: list[bytes] | None = None) -> None:
        if self._partial:
            data = self._partial + data
        end = data.rfind(b"\n") + 1
        self._partial = data[end:]
        if end:
            self._emit(data[:end], request_id, capture)

    def flush(self, request_id: str | None, capture: list[bytes] | None = None) -> None:
        """The worker is gone: what it wrote without a final newline still belongs to the log."""
        if self._partial:
            data, self._partial = self._partial + b"\n", b""
            self._emit(data, request_id, capture)

    def _emit(self, chunk: bytes, request_id: str | None, capture: list[bytes] | None) -> None:
        self._log.write(chunk)
        if capture is not None:
            capture.append(chunk)
        name = self._log.function_name
        for raw in chunk.decode(errors="replace").splitlines():
            level, message = self._classify(raw, name, request_id)
            if message is not None:
                log.log(level, "%s", message, extra=_extra(name, request_id))

    def _classify(self, line: str, name: str, request_id: str | None) -> tuple[int, str | None]:
        """The console level of a line and its rendering (None when the console would drop it anyway)."""
        level = self._traceback_level(line)
        if level is None:
            if line.startswith("{"):
                match = _JSON_LEVEL.search(line)
                level = _LEVELS.get(match.group(1).upper(), logging.INFO) if match else logging.INFO
                return level, render_json_line(name, line, request_id) if log.isEnabledFor(level) else None
            runtime = _RUNTIME_LINE.match(line)
            if runtime and runtime.group(1) in _LEVELS:
                level = _LEVELS[runtime.group(1)]
                if level >= logging.ERROR and line[len(runtime.group(1)) + 2] == " ":
                    self._block = LogStream.RUNTIME_ERROR
                if not log.isEnabledFor(level):
                    return level, None
                return level, _render_runtime_line(name, runtime.group(1), runtime.group(2), request_id)
            level = logging.INFO
        return level, f"{name} {line}" if log.isEnabledFor(level) else None

    def _traceback_level(self, line: str) -> int | None:
        """ERROR for the lines of a traceback (tracking where it ends), None for any other line."""
        if line.startswith(_TRACEBACK_HEAD):
            if self._block == LogStream.NONE:
                self._block = LogStream.PYTHON_TRACEBACK
            return logging.ERROR
        if self._block == LogStream.NONE:
            return None
        if line[:1] in (" ", "\t", "") or line.startswith(_CHAIN_LINES):
            return logging.ERROR
        block, self._block = self._block, LogStream.NONE
        # A Python traceback closes with its exception line; the runtime's report has none.
        return logging.ERROR if block == LogStream.PYTHON_TRACEBACK else None


def _render_runtime_line(name: str, level: str, rest: str, request_id: str | None) -> str:
    parts = rest.split("\t", 2)
    if len(parts) == 3:  # "<time>Z\t<requestId>\t<message>" from the runtime's logging handler
        _, line_request_id, message = parts
        request_id = line_request_id or request_id
    else:  # "[ERROR] Type: message" for an unhandled exception
        message = rest
    return f"{name} {level} {message}" + (f" [{request_id}]" if request_id else "")


def render_json_line(name: str, line: str, request_id: str | None = None) -> str:
    """`Name LEVEL message key=value ... [requestId]` for one JSON log line (the line itself if not JSON)."""
    try:
        record = json.loads(line)
    except ValueError:
        return f"{name} {line}"
    if not isinstance(record, dict):
        return f"{name} {line}"
    level = str(record.get("level", "INFO")).upper()
    message = record.get("message", record.get("errorMessage", ""))
    if not isinstance(message, str):
        message = json.dumps(message, default=str)
    fields = " ".join(f"{key}={_field(value)}" for key, value in record.items() if key not in _HIDDEN_KEYS)
    request_id = record.get("function_request_id") or record.get("requestId") or request_id
    text = f"{name} {level} {message}"
    if fields:
        text += f" {fields}"
    if request_id:
        text += f" [{request_id}]"
    trace = record.get("exception") or record.get("stack_trace")
    if isinstance(trace, str) and trace:
        text += "\n" + trace.rstrip("\n")
    elif isinstance(record.get("stackTrace"), list):
        text += "\n" + "".join(str(entry) for entry in record["stackTrace"]).rstrip("\n")
    return text


def _field(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value)
    return json.dumps(value, default=str, separators=(",", ":"))


def _extra(function_name: str, request_id: str | None) -> dict[str, Any]:
    return {"function": function_name, "request_id": request_id}
