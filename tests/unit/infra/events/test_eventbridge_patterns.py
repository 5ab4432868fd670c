"""The pieces that decide what EventBridge delivers, without a cloud: patterns, input transformation, schedules.

Expected results follow AWS's documentation of each operator (eb-event-patterns.html,
eb-transform-target-input.html, eb-scheduled-rule-pattern.html).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.events import patterns
from infra.events.input import target_input
from infra.events.schedules import ScheduleError, parse

EVENT: dict[str, Any] = {
    "version": "0", "id": "e-1", "detail-type": "OrderCreated", "source": "shop.orders", "account": "123456789012",
    "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": ["arn:aws:x:1", "arn:aws:y:2"],
    "detail": {
        "state": "initializing", "total": 250, "price": 10.5, "ip": "10.0.0.12", "host": "api.example.com",
        "note": None, "empty": "", "flag": True, "tags": ["red", "big"], "customer": {"tier": "Gold"},
        "lines": [{"sku": "ABC-1", "qty": 1}, {"sku": "xyz-2", "qty": 5}],
    },
}  # fmt: skip


def detail(pattern: dict[str, Any]) -> bool:
    return patterns.matches(patterns.load({"detail": pattern}), EVENT)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # exact values; a list is OR; type matters; arrays in events match any element
        ({"state": ["initializing"]}, True),
        ({"state": ["running", "initializing"]}, True),
        ({"state": ["running"]}, False),
        ({"total": [250]}, True),
        ({"total": [250.0]}, True),
        ({"total": ["250"]}, False),
        ({"flag": [True]}, True),
        ({"flag": [1]}, False),
        ({"tags": ["big"]}, True),
        # nested objects and arrays of objects (flattened, as AWS does)
        ({"customer": {"tier": ["Gold"]}}, True),
        ({"customer": {"tier": ["gold"]}}, False),
        ({"lines": {"sku": ["xyz-2"]}}, True),
        ({"lines": {"qty": [{"numeric": [">", 4]}]}}, True),
        # null and empty string match only themselves
        ({"note": [None]}, True),
        ({"empty": [""]}, True),
        ({"empty": [None]}, False),
        ({"state": [None]}, False),
        # prefix / suffix, also case-insensitive
        ({"state": [{"prefix": "init"}]}, True),
        ({"state": [{"prefix": "run"}]}, False),
        ({"customer": {"tier": [{"prefix": {"equals-ignore-case": "GO"}}]}}, True),
        ({"host": [{"suffix": ".example.com"}]}, True),
        ({"host": [{"suffix": {"equals-ignore-case": ".EXAMPLE.COM"}}]}, True),
        ({"host": [{"suffix": ".example.org"}]}, False),
        # equals-ignore-case
        ({"customer": {"tier": [{"equals-ignore-case": "gOLD"}]}}, True),
        ({"customer": {"tier": [{"equals-ignore-case": "silver"}]}}, False),
        # wildcard
        ({"host": [{"wildcard": "*.example.*"}]}, True),
        ({"host": [{"wildcard": "api*com"}]}, True),
        ({"host": [{"wildcard": "web.*"}]}, False),
        # anything-but: value, list, prefix, suffix, lists of prefixes, ignore-case
        ({"state": [{"anything-but": "running"}]}, True),
        ({"state": [{"anything-but": ["running", "initializing"]}]}, False),
        ({"total": [{"anything-but": [100, 200]}]}, True),
        ({"total": [{"anything-but": 250}]}, False),
        ({"state": [{"anything-but": {"prefix": "init"}}]}, False),
        ({"state": [{"anything-but": {"prefix": "run"}}]}, True),
        ({"host": [{"anything-but": {"suffix": ".com"}}]}, False),
        ({"state": [{"anything-but": {"prefix": ["run", "stop"]}}]}, True),
        ({"state": [{"anything-but": {"equals-ignore-case": ["INITIALIZING"]}}]}, False),
        ({"missing": [{"anything-but": "x"}]}, False),
        # numeric, with several operators
        ({"total": [{"numeric": [">", 100, "<=", 250]}]}, True),
        ({"total": [{"numeric": [">", 100, "<", 250]}]}, False),
        ({"price": [{"numeric": ["=", 10.5]}]}, True),
        ({"price": [{"numeric": [">=", 0, "<", 10]}]}, False),
        ({"state": [{"numeric": [">", 0]}]}, False),
        # exists on leaves only
        ({"state": [{"exists": True}]}, True),
        ({"coupon": [{"exists": False}]}, True),
        ({"coupon": [{"exists": True}]}, False),
        ({"state": [{"exists": False}]}, False),
        ({"customer": [{"exists": True}]}, False),
        ({"note": [{"exists": True}]}, True),
        # cidr
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, True),
        ({"ip": [{"cidr": "10.0.1.0/24"}]}, False),
        ({"host": [{"cidr": "10.0.0.0/8"}]}, False),
        # $or alongside other keys
        ({"state": ["initializing"], "$or": [{"total": [1]}, {"ip": [{"cidr": "10.0.0.0/8"}]}]}, True),
        ({"$or": [{"total": [1]}, {"host": ["x"]}]}, False),
    ],
)
def test_pattern_operator(pattern: dict[str, Any], expected: bool) -> None:
    assert detail(pattern) is expected


def test_top_level_fields_and_resources() -> None:
    assert patterns.matches({"source": ["shop.orders"], "resources": ["arn:aws:y:2"]}, EVENT)
    assert not patterns.matches({"source": ["shop.orders"], "detail-type": ["OrderCancelled"]}, EVENT)


@pytest.mark.parametrize(
    "bad",
    [{}, {"detail": {"x": []}}, {"detail": {"x": "a"}}, {"detail": {"x": [{"prefx": "a"}]}},
     {"detail": {"x": [{"numeric": [">", "a"]}]}}, {"detail": {"x": [{"cidr": "not-a-net"}]}},
     {"$or": [{"a": ["b"]}]}],
)  # fmt: skip
def test_invalid_patterns_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(patterns.PatternError):
        patterns.load(bad)


def test_input_transformer_string_and_json_substitution() -> None:
    transformer = {
        "InputPathsMap": {"id": "$.id", "total": "$.detail.total", "tier": "$.detail.customer",
                          "sku": "$.detail.lines[1].sku", "none": "$.detail.nothing"},
        "InputTemplate": '{"id": <id>, "text": "order <id> for <total> (<tier>)", "tier": <tier>, "sku": <sku>,'
                         ' "none": <none>, "blank": "<none>", "rule": "<aws.events.rule-name>",'
                         ' "all": <aws.events.event>}',
    }  # fmt: skip
    delivered = json.loads(target_input({"InputTransformer": transformer}, EVENT, "MyRule", "arn:rule"))
    assert delivered == {
        "id": "e-1", "text": 'order e-1 for 250 ({"tier": "Gold"})', "tier": {"tier": "Gold"}, "sku": "xyz-2",
        "none": None, "blank": "", "rule": "MyRule", "all": EVENT,
    }  # fmt: skip


def test_input_and_input_path() -> None:
    assert target_input({"Input": '{"fixed": 1}'}, EVENT, "r", "a") == '{"fixed": 1}'
    assert json.loads(target_input({"InputPath": "$.detail.customer"}, EVENT, "r", "a")) == {"tier": "Gold"}
    assert json.loads(target_input({}, EVENT, "r", "a")) == EVENT


START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", START, datetime(2026, 1, 1, 0, 5, 30, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 1, 3, 0, 0, 30, tzinfo=UTC)),
        ("cron(0/15 * * * ? *)", START, datetime(2026, 1, 1, 0, 15, tzinfo=UTC)),
        ("cron(0 10 * * ? *)", START, datetime(2026, 1, 1, 10, 0, tzinfo=UTC)),
        ("cron(0 18 ? * MON-FRI *)", START, datetime(2026, 1, 1, 18, 0, tzinfo=UTC)),
        ("cron(0 8 ? * 1 *)", START, datetime(2026, 1, 4, 8, 0, tzinfo=UTC)),  # 1 = Sunday
        ("cron(0 0 L * ? *)", START, datetime(2026, 1, 31, tzinfo=UTC)),
        ("cron(0 0 L 2 ? *)", START, datetime(2026, 2, 28, tzinfo=UTC)),
        ("cron(0 9 ? * 2#1 *)", START, datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),  # first Monday
        ("cron(0 9 ? * 6L *)", START, datetime(2026, 1, 30, 9, 0, tzinfo=UTC)),  # last Friday
        ("cron(0 9 3W * ? *)", START, datetime(2026, 1, 2, 9, 0, tzinfo=UTC)),  # Sat 3rd -> Fri 2nd
        ("cron(0 9 LW * ? *)", START, datetime(2026, 1, 30, 9, 0, tzinfo=UTC)),  # Sat 31st -> Fri 30th
        ("cron(30 12 1 JAN,JUL ? 2027)", START, datetime(2027, 1, 1, 12, 30, tzinfo=UTC)),
    ],
)
def test_schedule_next_firing(expression: str, after: datetime, expected: datetime) -> None:
    assert parse(expression, START).next_after(after) == expected


@pytest.mark.parametrize("bad", ["rate(0 minutes)", "rate(5 weeks)", "cron(* * * * * *)", "cron(0 0 * *)", "every 5"])
def test_invalid_schedules_are_rejected(bad: str) -> None:
    with pytest.raises(ScheduleError):
        parse(bad, START)
