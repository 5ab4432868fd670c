"""Stream records reach functions in Lambda's shape, whatever DynamoDB Local writes."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.dynamodb.streams import lambda_record

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"


def test_empty_maps_are_typed_as_aws_types_them():
    # What DynamoDB Local's GetRecords returns (as boto3 parses it) for an item holding empty maps.
    raw = {
        "eventID": "1",
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "m": {}, "l": {"L": [{}]}, "nested": {"M": {"x": {}}}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
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


def test_an_item_dynamodb_local_expired_itself_is_a_ttl_removal():
    # DynamoDB Local 3.x sometimes deletes an expired item on its own and names the record this way.
    raw = {
        "eventID": "2",
        "eventName": "UNKNOWN_TO_SDK_VERSION",
        "dynamodb": {
            "Keys": {"pk": {"S": "a"}},
            "OldImage": {"pk": {"S": "a"}, "expiresAt": {"N": "1"}},
            "SequenceNumber": "200",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = lambda_record(raw, ARN, "us-east-1")
    assert record["eventName"] == "REMOVE"
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
