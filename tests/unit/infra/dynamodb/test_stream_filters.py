"""FilterCriteria of stream mappings go through infra.events.patterns, the matcher the EventBridge rules use."""

from __future__ import annotations

import json

import pytest

from infra.dynamodb.streams import MappingConfig, lambda_record
from infra.events.patterns import PatternError

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"


def record(event_name: str, image: dict) -> dict:
    raw = {
        "eventID": "1", "eventName": event_name,
        "dynamodb": {"Keys": {"pk": {"S": "a"}}, "NewImage": {"pk": {"S": "a"}, **image},
                     "SequenceNumber": "100", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }  # fmt: skip
    return lambda_record(raw, ARN, "us-east-1")


def config(*patterns: dict) -> MappingConfig:
    filters = [{"Pattern": json.dumps(pattern)} for pattern in patterns]
    return MappingConfig.from_properties({"FilterCriteria": {"Filters": filters}}, "OrdersMapping")


def test_event_name_and_new_image_filter():
    paid_inserts = config({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}})
    assert paid_inserts.accepts(record("INSERT", {"status": {"S": "PAID"}}))
    assert not paid_inserts.accepts(record("MODIFY", {"status": {"S": "PAID"}}))
    assert not paid_inserts.accepts(record("INSERT", {"status": {"S": "NEW"}}))


def test_a_list_of_maps_is_matched_element_by_element():
    # moto's EventPattern never looked inside arrays of objects: this record did not pass it.
    has_sku_b = config({"dynamodb": {"NewImage": {"lines": {"L": {"M": {"sku": {"S": ["B"]}}}}}}})
    lines = {"lines": {"L": [{"M": {"sku": {"S": "A"}}}, {"M": {"sku": {"S": "B"}}}]}}
    assert has_sku_b.accepts(record("INSERT", lines))
    assert not has_sku_b.accepts(record("INSERT", {"lines": {"L": [{"M": {"sku": {"S": "A"}}}]}}))


def test_no_filters_accept_everything_and_any_filter_may_match():
    assert MappingConfig.from_properties({}).accepts(record("REMOVE", {}))
    either = config({"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]})
    assert either.accepts(record("REMOVE", {})) and not either.accepts(record("MODIFY", {}))


@pytest.mark.parametrize("pattern", ['{"eventName": "INSERT"}', '{"eventName": [{"prefx": "IN"}]}', "not json"])
def test_an_invalid_pattern_is_refused_naming_the_mapping(pattern):
    with pytest.raises(PatternError, match="OrdersMapping"):
        MappingConfig.from_properties({"FilterCriteria": {"Filters": [{"Pattern": pattern}]}}, "OrdersMapping")
