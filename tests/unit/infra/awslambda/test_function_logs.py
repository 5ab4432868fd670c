"""Function output becomes a verbatim log file and readable console lines with the right level."""

from __future__ import annotations

import json
import logging

import pytest

from infra.awslambda.logs import FunctionLog, render_json_line, set_console_level


@pytest.fixture
def console(caplog):
    caplog.set_level(logging.DEBUG, logger="infra.functions")  # restored after the test
    return caplog


def records(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(record.levelname, record.getMessage()) for record in caplog.records if record.name == "infra.functions"]


def test_lines_are_filed_verbatim_and_split_across_chunks(tmp_path, console):
    log = FunctionLog("CatalogFunction", tmp_path)
    stream = log.stream()
    stream.feed(b"first li", "req-1")
    stream.feed(b"ne\nsecond line\npartial", "req-1")
    assert (tmp_path / "CatalogFunction.log").read_bytes() == b"first line\nsecond line\n"
    stream.flush("req-1")
    log.close()
    assert (tmp_path / "CatalogFunction.log").read_bytes() == b"first line\nsecond line\npartial\n"
    assert records(console) == [
        ("INFO", "CatalogFunction first line"),
        ("INFO", "CatalogFunction second line"),
        ("INFO", "CatalogFunction partial"),
    ]


def test_powertools_json_lines_are_rendered_with_their_level(console):
    line = json.dumps(
        {
            "level": "WARNING", "location": "handler:9", "message": "stock low", "timestamp": "2026-01-01",
            "service": "catalog", "cold_start": True, "function_request_id": "req-9", "available": 2,
            "sku": "A 1", "xray_trace_id": "1-abc",
        }
    )  # fmt: skip
    FunctionLog("CatalogFunction", None).stream().feed(line.encode() + b"\n", "other")
    assert records(console) == [("WARNING", 'CatalogFunction WARNING stock low available=2 sku="A 1" [req-9]')]


def test_json_exception_is_shown_below_the_message():
    line = json.dumps({"level": "ERROR", "message": "failed", "exception": "Traceback...\nValueError: x"})
    assert render_json_line("Fn", line, "r") == "Fn ERROR failed [r]\nTraceback...\nValueError: x"


def test_tracebacks_and_runtime_levels(console):
    output = (
        "[WARNING]\t2026-01-01T00:00:00.000Z\treq-2\tlow stock\n"
        "[ERROR] ValueError: boom\n"
        "Traceback (most recent call last):\n"
        '  File "/var/task/app.py", line 3, in handler\n'
        "    raise ValueError('boom')\n"
        "printed afterwards\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "KeyError: 'k'\n"
        "back to normal\n"
    )
    FunctionLog("Fn", None).stream().feed(output.encode(), "req-2")
    assert records(console) == [
        ("WARNING", "Fn WARNING low stock [req-2]"),
        ("ERROR", "Fn ERROR ValueError: boom [req-2]"),
        ("ERROR", "Fn Traceback (most recent call last):"),
        ("ERROR", 'Fn   File "/var/task/app.py", line 3, in handler'),
        ("ERROR", "Fn     raise ValueError('boom')"),
        ("INFO", "Fn printed afterwards"),
        ("ERROR", "Fn Traceback (most recent call last):"),
        ("ERROR", 'Fn   File "x.py", line 1, in <module>'),
        ("ERROR", "Fn KeyError: 'k'"),
        ("INFO", "Fn back to normal"),
    ]


def test_console_is_quiet_by_default(caplog):
    caplog.set_level(logging.DEBUG)  # the root logger lets everything through; infra.functions does not
    stream = FunctionLog("Fn", None).stream()
    stream.feed(b'{"level":"INFO","message":"chatty"}\nprint output\n[ERROR] Boom: x\n', "r")
    assert records(caplog) == [("ERROR", "Fn ERROR Boom: x [r]")]


def test_runtime_lines_reach_the_console_only_at_debug(tmp_path, caplog):
    log = FunctionLog("Fn", tmp_path)
    log.runtime_lines("START RequestId: r Version: $LATEST\n", "r")
    assert records(caplog) == []
    caplog.set_level(logging.DEBUG, logger="infra.functions")
    log.runtime_lines("END RequestId: r\n", "r")
    assert records(caplog) == [("DEBUG", "Fn END RequestId: r")]
    assert (tmp_path / "Fn.log").read_text() == "START RequestId: r Version: $LATEST\nEND RequestId: r\n"


def test_set_console_level():
    logger = logging.getLogger("infra.functions")
    before = logger.level
    try:
        set_console_level(logging.INFO)
        assert logger.isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(before)
    assert before == logging.WARNING
