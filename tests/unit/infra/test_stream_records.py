"""Stream records reach functions in Lambda's shape, whatever DynamoDB Local writes."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.streams import lambda_record

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"


def test_empty_maps_are_typed_as_aws_types_them():
    # What DynamoDB Local's GetRecords returns (as boto3 parses it) for an item holding empty maps.
    raw = {
        "eventID": "1", "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "m": {}, "l": {"L": [{}]}, "nested": {"M": {"x": {}}}},
            "SequenceNumber": "100", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = lambda_record(raw, ARN, "us-east-1")
    image = record["dynamodb"]["NewImage"]
    assert image["m"] == {"M": {}}
    assert image["l"] == {"L": [{"M": {}}]}
    assert image["nested"] == {"M": {"x": {"M": {}}}}
    assert record["dynamodb"]["ApproximateCreationDateTime"] == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "us-east-1"
    assert "userIdentity" not in record
