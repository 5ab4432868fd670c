"""shop.clock: one text form for every timestamp the shop writes, and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from shop import clock


def test_iso_is_utc_with_milliseconds_and_z():
    moment = datetime(2026, 11, 29, 19, 50, 55, 123456, tzinfo=UTC)
    assert clock.iso(moment) == "2026-11-29T19:50:55.123Z"
    assert clock.iso(moment.astimezone(timezone(timedelta(hours=2)))) == "2026-11-29T19:50:55.123Z"


def test_round_trip_keeps_the_moment_to_the_millisecond():
    moment = clock.now()
    assert moment.tzinfo is not None
    back = clock.parse_iso(clock.iso(moment))
    assert back.tzinfo is not None and abs(back - moment) < timedelta(milliseconds=1)
    assert clock.iso(back) == clock.iso(moment)


def test_text_sorts_as_time():
    earlier, later = clock.now_iso(), clock.iso(clock.now() + timedelta(seconds=1))
    assert earlier < later and clock.parse_iso(earlier) < clock.parse_iso(later)


def test_offsets_other_than_z_are_read():
    assert clock.parse_iso("2026-11-29T21:00:00.000+02:00") == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
