"""`python -m infra executions [--name ID] [--limit N]`: Step Functions executions, for a person debugging a saga.

Without --name: the most recent executions of every state machine of the running cloud, newest first, with
status, duration and the error of those that failed. With --name (an execution name or ARN): that
execution state by state from its history — each state entered and exited with its compact input and
output and how long it took, every failure with its error and cause (retries show as repeated failures).
Everything is read through the Step Functions API of the moto server, as the AWS console would.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

from infra.core.clients import sdk_client

WIDTH = 110  # input/output are cut to this many characters: enough to recognise, short enough to scan


def compact(text: str | None, width: int = WIDTH) -> str:
    """JSON without spaces, cut to `width` characters."""
    if text is None:
        return ""
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), separators=(",", ":"), sort_keys=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def readable_cause(cause: str | None, width: int = 200) -> str:
    """A Lambda error's cause is its JSON error payload: show "errorMessage" rather than the stack trace."""
    if not cause:
        return ""
    try:
        payload = json.loads(cause)
    except ValueError:
        return compact(cause, width)
    if isinstance(payload, dict) and "errorMessage" in payload:
        return compact(str(payload["errorMessage"]), width)
    return compact(cause, width)


def _seconds(start: datetime, stop: datetime | None) -> str:
    if stop is None:
        return "running"
    elapsed = (stop - start).total_seconds()
    return f"{elapsed * 1000:.0f} ms" if elapsed < 1 else f"{elapsed:.2f} s"


def _all_executions(sfn: Any) -> list[dict[str, Any]]:
    executions = []
    for machine in sfn.get_paginator("list_state_machines").paginate():
        for summary in machine["stateMachines"]:
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=summary["stateMachineArn"]):
                executions += [{**e, "machine": summary["name"]} for e in page["executions"]]
    return sorted(executions, key=lambda e: e["startDate"], reverse=True)


def _list(sfn: Any, limit: int) -> int:
    executions = _all_executions(sfn)
    if not executions:
        print("no executions yet")
        return 0
    print(f"{'STATUS':<10} {'STARTED':<12} {'DURATION':>9}  {'STATE MACHINE':<28} EXECUTION")
    for summary in executions[:limit]:
        line = (f"{summary['status']:<10} {summary['startDate'].strftime('%H:%M:%S.%f')[:12]} "
                f"{_seconds(summary['startDate'], summary.get('stopDate')):>9}  {summary['machine']:<28} "
                f"{summary['name']}")
        if summary["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
            described = sfn.describe_execution(executionArn=summary["executionArn"])
            line += f"  {described.get('error', '')}: {readable_cause(described.get('cause'), 80)}"
        print(line)
    if len(executions) > limit:
        print(f"({len(executions) - limit} older not shown; --limit N)")
    return 0


def _find(sfn: Any, name: str) -> str | None:
    if name.startswith("arn:"):
        return name
    for summary in _all_executions(sfn):
        if summary["name"] == name:
            return str(summary["executionArn"])
    return None


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def describe_history(events: list[dict[str, Any]]) -> list[str]:
    """One line per state entered/exited and per failure, with offsets from the execution's start."""
    if not events:
        return []
    began = events[0]["timestamp"]
    entered: dict[str, list[datetime]] = {}
    last_output = None  # data that merely flows on from the previous state is not printed twice
    lines = []
    for event in events:
        kind, details = event["type"], _details(event)
        at = f"+{(event['timestamp'] - began).total_seconds():7.3f}s"
        if kind.endswith("StateEntered"):
            name = details.get("name", "?")
            entered.setdefault(name, []).append(event["timestamp"])
            given = compact(details.get("input"), width=1 << 30)
            shown = "in (as above)" if given == last_output else f"in {compact(given)}"
            lines.append(f"{at}  → {name} ({kind.removesuffix('StateEntered')})  {shown}")
            last_output = given
        elif kind.endswith("StateExited"):
            name = details.get("name", "?")
            starts = entered.get(name) or [event["timestamp"]]
            took = _seconds(starts.pop(0), event["timestamp"])
            output = compact(details.get("output"), width=1 << 30)
            shown = "out (unchanged)" if output == last_output else f"out {compact(output)}"
            lines.append(f"{at}  ← {name}  {took}  {shown}")
            last_output = output
        elif kind.endswith(("Failed", "TimedOut", "Aborted")) or kind == "ExecutionSucceeded":
            text = kind + (f" {details['error']}" if details.get("error") else "")
            if details.get("cause"):
                text += f": {readable_cause(details['cause'])}"
            if kind == "ExecutionSucceeded":
                text += f"  output {compact(details.get('output'))}"
            lines.append(f"{at}    {'✓' if kind == 'ExecutionSucceeded' else '✗'} {text}")
    return lines


def _one(sfn: Any, name: str) -> int:
    arn = _find(sfn, name)
    if arn is None:
        raise SystemExit(f"no execution named {name!r}; `python -m infra executions` lists them")
    described = sfn.describe_execution(executionArn=arn)
    print(f"{described['name']}  {described['status']}  "
          f"{_seconds(described['startDate'], described.get('stopDate'))}")
    print(f"  state machine {described['stateMachineArn'].rsplit(':', 1)[-1]}")
    print(f"  input  {compact(described.get('input'))}")
    if described.get("output"):
        print(f"  output {compact(described.get('output'))}")
    if described.get("error") or described.get("cause"):
        print(f"  error  {described.get('error', '')}: {described.get('cause', '')}")  # in full: the details
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events += page["events"]
    for line in describe_history(events):
        print(line)
    return 0


def show_executions(state: dict[str, Any], *, name: str | None, limit: int) -> int:
    sfn = sdk_client("stepfunctions", state["environment"])
    return _one(sfn, name) if name else _list(sfn, limit)
