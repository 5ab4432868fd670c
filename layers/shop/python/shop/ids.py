"""Identifiers: a type prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford base32).

They sort by creation time as plain strings and carry 80 bits of randomness, so they can be minted
anywhere without coordination.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID = r"[0-7][0-9A-HJKMNP-TV-Z]{25}"  # 26 chars x 5 bits = 130 >= 128 bits, so the first char is <= 7


def new_id(prefix: str) -> str:
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return f"{prefix}_{_crockford(value)}"


def _crockford(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def keyed_id(prefix: str, digest: bytes) -> str:
    """An id of the same shape as new_id's, taken from a digest (an HMAC, at least 16 bytes) instead of the
    clock and randomness: the same digest always gives the same id. It does not sort by creation time."""
    value = int.from_bytes(digest[:16], "big") >> 3  # 125 bits, so the first character is <= 7 like a ULID's
    return f"{prefix}_{_crockford(value)}"


def is_id(value: str, prefix: str) -> bool:
    return re.fullmatch(f"{re.escape(prefix)}_{_ULID}", value) is not None


def derived_id(prefix: str, name: str, millis: int) -> str:
    """An id of the same shape as new_id, but the same every time for the same name and time.

    Lets a retried job (e.g. a redelivered import) mint the ids it minted before, so a conditional
    "does not exist" write makes the retry a no-op.
    """
    value = millis << 80 | int.from_bytes(hashlib.sha256(name.encode()).digest()[:10], "big")
    return f"{prefix}_{_crockford(value)}"
