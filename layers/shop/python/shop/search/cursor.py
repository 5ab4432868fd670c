"""Opaque, tamper-evident page cursors: base64url(JSON) + "." + HMAC-SHA256 (truncated to 128 bits).

A cursor names the sort values of the last hit shown and a fingerprint of the query it belongs to, so a
forged cursor, or one reused with another query, is refused rather than silently paging something else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from shop.errors import InvalidCursorError

SIGNATURE_BYTES = 16


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
        data = json.loads(_unb64(body))
    except (ValueError, TypeError) as error:
        raise InvalidCursorError() from error
    if data.get("q") != query_fingerprint:
        raise InvalidCursorError("the cursor belongs to another query; start again without it")
    after = data.get("a")
    if not isinstance(after, list) or not after:
        raise InvalidCursorError()
    return tuple(after)
