"""Finding card numbers in stored text: a run of 13-19 digits (single spaces or dashes allowed between
them) that passes the Luhn check, which every card number does and ~90 % of other digit runs do not. Runs
inside a word (hex digests, ids), UUIDs and epoch times in milliseconds are not taken for cards: they
would pass the Luhn check one time in ten.

Pure functions, no I/O: infra.reconcile.sources reads the rows, executions, events and log files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

MIN_DIGITS, MAX_DIGITS = 13, 19
# A maximal run of digits with single separators between them, standing alone (no letter or digit touches
# it): its digits are judged as one number. Digits inside a word (a hex digest, an id) are no card number.
_RUN = re.compile(r"(?<![0-9A-Za-z])(?<!\d[ -])\d(?:[ -]?\d)*(?![0-9A-Za-z])(?![ -]\d)")
# UUIDs (request ids, event ids) can hold long all-digit groups joined by dashes: not card numbers.
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
# Epoch milliseconds (13 digits) of 2001-2100 pass Luhn one time in ten; they are times, not cards.
_EPOCH_MS_RANGE = (
    int(datetime(2001, 9, 9, tzinfo=UTC).timestamp() * 1000),
    int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000),
)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number passes."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_numbers(text: str) -> list[str]:
    """The card numbers in `text`, masked to their last four digits (a report must not repeat them)."""
    found = []
    for match in _RUN.finditer(_UUID.sub(" ", text)):
        digits = re.sub(r"[ -]", "", match.group())
        if MIN_DIGITS <= len(digits) <= MAX_DIGITS and luhn_valid(digits) and not _looks_like_epoch_ms(digits):
            found.append(mask(digits))
    return found


def mask(digits: str) -> str:
    return f"{'*' * (len(digits) - 4)}{digits[-4:]}"


def _looks_like_epoch_ms(digits: str) -> bool:
    return len(digits) == 13 and _EPOCH_MS_RANGE[0] <= int(digits) < _EPOCH_MS_RANGE[1]


@dataclass(frozen=True)
class Finding:
    path: str  # where inside the value: attribute.path[0].name
    masked: str


def scan_value(value: Any, path: str = "") -> Iterator[Finding]:
    """Every card number in a decoded value (a DynamoDB item, a JSON document): strings and numbers are
    read, mappings and sequences walked; the path says where."""
    if isinstance(value, str):
        for masked in card_numbers(value):
            yield Finding(path or "$", masked)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | Decimal):
        for masked in card_numbers(str(value)):
            yield Finding(path or "$", masked)
    elif isinstance(value, bytes | bytearray):
        yield from scan_value(bytes(value).decode("utf-8", errors="replace"), path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from scan_value(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from scan_value(item, f"{path}[{index}]")
