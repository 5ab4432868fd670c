"""Diagnostics for tests and benchmarks (deployed only with EnableDiagnostics=true, never in prod).

GET /_diagnostics/{action}:
- noop   200 {"ok": true}, nothing else: measures the gateway's and the runtime's own overhead
- raise  raises RuntimeError("diagnostic failure") unhandled: the runtime reports a function error
- sleep  ?seconds=N sleeps N seconds, then 200 {"slept": N} (the function's Timeout is 2 s)
- env    200 {"names": [...]}: the sorted names, never the values, of the environment variables
- echo   200 with the event exactly as the function received it

A plain handler on purpose: the resolver's routing and validation would add to what noop measures, and
would turn the `raise` action into a handled 500.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.errors import RouteNotFoundError, ShopError, ValidationFailedError

ACTIONS = ["noop", "raise", "sleep", "env", "echo"]
MAX_SLEEP_SECONDS = 900  # Lambda's own maximum timeout

logger = Logger()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = (event.get("pathParameters") or {}).get("action")
    if action == "noop":
        return _json(200, {"ok": True})
    if action == "raise":
        raise RuntimeError("diagnostic failure")
    try:
        if action == "sleep":
            seconds = _seconds(event)
            time.sleep(seconds)
            return _json(200, {"slept": seconds})
        if action == "env":
            return _json(200, {"names": sorted(os.environ)})
        if action == "echo":
            return _json(200, event)
        raise RouteNotFoundError(f"no diagnostic action {action!r}", details={"actions": ACTIONS})
    except ShopError as error:
        return _json(int(error.status), error.body())


def _seconds(event: dict[str, Any]) -> float:
    text = (event.get("queryStringParameters") or {}).get("seconds", "")
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_SLEEP_SECONDS:  # NaN fails this too
        message = f"seconds should be a number from 0 to {MAX_SLEEP_SECONDS}"
        raise ValidationFailedError.of_field("seconds", message, "range")
    return seconds


def _json(status: int, body: Any) -> dict[str, Any]:
    # Built here rather than with shop.http, whose imports (pydantic, the resolver) would slow cold starts.
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }
