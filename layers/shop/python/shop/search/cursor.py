"""Opaque, tamper-evident page cursors: base64url(JSON) + "." + HMAC-SHA256 (truncated to 128 bits).

A cursor names the sort values of the last hit shown and a fingerprint of the query it belongs to, so a
forged cursor, or one reused with another query, is refused rather than silently paging something else.
Its contents are checked too (the sort values are always one or two finite numbers), so even a cursor
signed with a leaked key never reaches the engines with anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from typing import Any

from shop.errors import InvalidCursorError

SIGNATURE_BYTES = 16
MAX_SORT_VALUES = 2  # (score, seq) for relevance; one unique key for the other sorts


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode(key: bytes, query_fingerprint: str, after: tuple[Any, ...]) -> str:
    body = _b64(json.dumps({"q": query_fingerprint, "a": list(after)}, separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES])}"


def decode(key: bytes, query_fingerprint: str, cursor: str) -> tuple[Any, ...]:
    body, _, signature = cursor.partition(".")
    try:
        expected = hmac.new(key, body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise InvalidCursorError()
        data = json.loads(_unb64(body), parse_constant=_not_a_number)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError() from error
    if not isinstance(data, dict):
        raise InvalidCursorError()
    if data.get("q") != query_fingerprint:
        raise InvalidCursorError("the cursor belongs to another query; start again without it")
    after = data.get("a")
    if not isinstance(after, list) or not 0 < len(after) <= MAX_SORT_VALUES or not all(map(_finite, after)):
        raise InvalidCursorError()
    return tuple(after)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a sort value")
