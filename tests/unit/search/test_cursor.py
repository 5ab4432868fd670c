"""Page cursors: signed, bound to their query, and holding only what the engines accept (one or two finite
numbers), so a cursor forged with a leaked key is refused with 400 INVALID_CURSOR, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from shop.errors import InvalidCursorError
from shop.search import cursor

KEY = b"k" * 32


def signed(payload: Any, raw: str | None = None) -> str:
    """A cursor signed with the key, holding `payload` (or the raw JSON text): what a forger with the key makes."""
    text = raw if raw is not None else json.dumps(payload)
    body = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    signature = hmac.new(KEY, body.encode(), hashlib.sha256).digest()[: cursor.SIGNATURE_BYTES]
    return f"{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_a_cursor_pages_its_own_query():
    made = cursor.encode(KEY, "q1", (0.5, 12))
    assert cursor.decode(KEY, "q1", made) == (0.5, 12)
    with pytest.raises(InvalidCursorError, match="another query"):
        cursor.decode(KEY, "q2", made)
    with pytest.raises(InvalidCursorError):
        cursor.decode(b"other key" * 4, "q1", made)


@pytest.mark.parametrize(
    "forged",
    [
        signed({"q": "q1", "a": [{"$gt": 1}]}),
        signed({"q": "q1", "a": ["not a number"]}),
        signed({"q": "q1", "a": [True]}),
        signed({"q": "q1", "a": [1, 2, 3]}),
        signed({"q": "q1", "a": []}),
        signed({"q": "q1", "a": "12"}),
        signed(None, raw='{"q": "q1", "a": [NaN]}'),
        signed(None, raw='{"q": "q1", "a": [Infinity, 1]}'),
        signed(None, raw='["q1", [1]]'),
        signed(None, raw="not json"),
    ],
    ids=["object", "string", "bool", "too-many", "empty", "not-a-list", "nan", "infinity", "array", "text"],
)
def test_a_signed_cursor_with_anything_but_sort_numbers_is_refused(forged: str):
    with pytest.raises(InvalidCursorError):
        cursor.decode(KEY, "q1", forged)
