"""FilterCriteria of SQS mappings go through infra.events.patterns; a JSON body is matched as an object."""

from __future__ import annotations

import json

import pytest

from infra.awslambda.models import EventSourceMappingSpec
from infra.events.patterns import PatternError
from infra.sqs.event_source import SqsEventSource, filter_patterns, lambda_record, record_matches

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:orders"


def message(body: str, **attributes: str) -> dict:
    sqs_message = {
        "MessageId": "m-1", "ReceiptHandle": "r-1", "Body": body, "MD5OfBody": "x",
        "MessageAttributes": {name: {"StringValue": value, "DataType": "String"} for name, value in attributes.items()},
    }  # fmt: skip
    return lambda_record(sqs_message, QUEUE_ARN, "us-east-1")


def filters(*patterns: dict) -> list:
    return filter_patterns({"FilterCriteria": {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}}, "Mapping")


def test_a_json_body_is_matched_as_an_object():
    keep = filters({"body": {"kind": ["keep"]}})
    assert record_matches(keep, message(json.dumps({"kind": "keep"})))
    assert not record_matches(keep, message(json.dumps({"kind": "drop"})))
    assert not record_matches(keep, message("kind=keep"))  # not JSON: the body is a plain string


def test_an_array_of_objects_in_the_body_and_numbers_as_numbers():
    # moto's EventPattern did not look inside arrays of objects, and told 5 from 5.0.
    has_sku_b = filters({"body": {"lines": {"sku": ["B"]}}})
    assert record_matches(has_sku_b, message(json.dumps({"lines": [{"sku": "A"}, {"sku": "B"}]})))
    assert not record_matches(has_sku_b, message(json.dumps({"lines": [{"sku": "A"}]})))
    assert record_matches(filters({"body": {"quantity": [5]}}), message(json.dumps({"quantity": 5.0})))


def test_message_attributes_and_a_plain_body():
    high = filters({"messageAttributes": {"priority": {"stringValue": ["high"]}}})
    assert record_matches(high, message("x", priority="high"))
    assert not record_matches(high, message("x", priority="low"))
    assert record_matches(filters({"body": [{"prefix": "plain"}]}), message("plain text"))
    assert record_matches([], message("anything"))


def test_an_invalid_pattern_fails_the_mapping_naming_it():
    spec = EventSourceMappingSpec(
        "OrdersMapping", "uuid", "OrdersFunction", QUEUE_ARN,
        {"FilterCriteria": {"Filters": [{"Pattern": '{"body": {"kind": "keep"}}'}]}},
    )  # fmt: skip
    with pytest.raises(PatternError, match="OrdersMapping"):
        SqsEventSource(spec, runtime=None, moto_url="http://127.0.0.1:9", region="us-east-1")  # type: ignore[arg-type]
