"""Time as the shop stores and shows it: aware UTC datetimes in code, ISO-8601 text with milliseconds and
"Z" in tables, events and responses ("2026-11-29T19:50:55.123Z").

The text form sorts as time (a GSI range key, a `>=` condition), so every timestamp the shop writes is
made by `iso` and read back by `parse_iso`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """This moment as an aware UTC datetime."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """An aware datetime as stored text: UTC, milliseconds, "Z" ("2026-11-29T19:50:55.123Z")."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """This moment as stored text."""
    return iso(now())


def parse_iso(text: str) -> datetime:
    """Stored text (with "Z" or an offset) back to an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
