"""Changing a running cloud's faults over HTTP, and `python -m infra faults [SPEC|off|show] [--url URL]`.

The gateway serves `/_local/faults` (infra.faults.control): GET answers {"spec", "entries", "counts", ...},
POST sets a spec (the body is the spec, or JSON {"spec": ...}), DELETE clears it. A spec the cloud refuses
comes back as a 400 whose message is raised here as FaultSpecError. `/_local/dynamodb-calls` counts the
functions' DynamoDB calls: `dynamodb_calls` reads them, `reset_dynamodb_calls` starts them from zero.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from infra.faults.control import CALLS_PATH, FAULTS_PATH
from infra.faults.spec import OFF, FaultSpecError, parse


def _request(api: str, method: str, body: bytes | None = None, path: str = FAULTS_PATH) -> dict[str, Any]:
    url = f"{api.rstrip('/')}{path}"
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - the local gateway's URL
    if body is not None:
        request.add_header("content-type", "text/plain")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local gateway's URL
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        if error.code == 400:
            try:
                message = json.loads(text)["message"]
            except (ValueError, KeyError, TypeError):
                message = text
            raise FaultSpecError(message) from None
        raise


def show(api: str) -> dict[str, Any]:
    """The cloud's current spec and the faults injected since it was set, per entry."""
    return _request(api, "GET")


def set_spec(api: str, spec: str) -> dict[str, Any]:
    """Replace the running cloud's faults with `spec` ("" or "off" clears); answers what show() answers."""
    if spec.strip().lower() in OFF:
        return clear(api)
    return _request(api, "POST", spec.encode())


def clear(api: str) -> dict[str, Any]:
    return _request(api, "DELETE", b"")


def dynamodb_calls(api: str) -> dict[str, Any]:
    """{"total", "operations": {name: calls}, "tables": {name: calls}, "steps": {function[:action]: calls},
    "invocations": {function[:action]: invocations that made calls}}:
    the functions' DynamoDB calls (every attempt) since the cloud started or reset_dynamodb_calls(), counted
    as each invocation ends."""
    return _request(api, "GET", path=CALLS_PATH)


def reset_dynamodb_calls(api: str) -> dict[str, Any]:
    return _request(api, "DELETE", b"", path=CALLS_PATH)


def _print(answer: dict[str, Any]) -> None:
    if not answer.get("spec"):
        print("no faults")
        return
    print(f"faults: {answer['spec']}")
    for key, count in answer.get("counts", {}).items():
        print(f"  {key:<40} {count} injected")
    for function, left in answer.get("killsLeft", {}).items():
        print(f"  lambda.kill {function}: {left} more invocation(s) to kill")
    if answer.get("outageSecondsLeft"):
        print(f"  DynamoDB outage: {answer['outageSecondsLeft']} s left")


def command(api: str, spec: str | None) -> int:
    """The CLI: no spec or "show" prints the faults and counts; "off" clears; anything else is set."""
    try:
        if spec is None or spec == "show":
            answer = show(api)
        else:
            parse(spec)  # a typo is reported here, before anything is sent
            answer = set_spec(api, spec)
    except FaultSpecError as error:
        print(f"invalid fault spec: {error}")
        return 2
    except (urllib.error.URLError, OSError) as error:
        print(f"cannot reach the local cloud at {api}: {error}")
        return 1
    _print(answer)
    return 0
