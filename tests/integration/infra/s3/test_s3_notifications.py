"""S3 notifications end to end on the infra tests' cloud (tests/fixtures/templates/services.yaml): objects
created every way a client can (SDK, presigned PUT and POST over plain HTTP, copy, multipart), and the
events the functions received read back from the table they record into."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest

from infra.launcher import RunningCloud
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def s3(cloud: RunningCloud) -> Any:
    return cloud.client("s3")


@pytest.fixture(scope="module")
def bucket(cloud: RunningCloud) -> str:
    return str(cloud.state["outputs"]["BucketName"])


@pytest.fixture(scope="module")
def events_for(cloud: RunningCloud) -> Callable[[str], list[dict[str, Any]]]:
    """The records delivered for one (decoded) key: [{"function", "eventName", "record", ...}]."""
    dynamodb = cloud.client("dynamodb")
    table = cloud.state["outputs"]["UploadReceivedTableName"]

    def events(key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        rows = [{name: next(iter(value.values())) for name, value in item.items()} for item in items]
        return [{**row, "record": json.loads(row["record"])} for row in rows if row["key"] == quote_plus(key, safe="/")]

    return events


def wait_for(condition: Callable[[], Any], timeout: float = 60, message: str = "condition") -> Any:
    return eventually(condition, timeout, interval=0.05, message=message)


def delivered_once(s3: Any, bucket: str, events_for: Callable[[str], list[dict[str, Any]]], key: str) -> dict[str, Any]:
    """Waits for the key's event, then for a marker object created after it: a duplicate of the key's event
    would have been queued before the marker's, so once the marker arrived the count is final."""
    wait_for(lambda: events_for(key), message=f"an event for {key!r}")
    marker = f"images/marker-{uuid.uuid4().hex}.png"
    s3.put_object(Bucket=bucket, Key=marker, Body=b"")
    wait_for(lambda: events_for(marker), message="the marker's event")
    events = events_for(key)
    assert len(events) == 1, [e["eventName"] for e in events]
    assert events[0]["recordsInEvent"] == "1"
    return events[0]


def check_record(record: dict[str, Any], bucket: str, key: str, body: bytes, event_name: str) -> None:
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventName"] == event_name
    assert record["eventTime"].endswith("Z")
    assert record["userIdentity"]["principalId"]
    assert record["requestParameters"]["sourceIPAddress"]
    assert "x-amz-request-id" in record["responseElements"]
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["configurationId"]
    assert s3["bucket"]["name"] == bucket
    assert s3["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3["bucket"]["ownerIdentity"]["principalId"]
    assert s3["object"]["key"] == quote_plus(key, safe="/")
    assert s3["object"]["size"] == len(body)
    assert s3["object"]["sequencer"]


def test_put_object_invokes_once_with_the_aws_event(s3: Any, bucket: str, events_for: Any) -> None:
    key, body = f"images/{uuid.uuid4().hex} photo (1).png", b"\x89PNG data"
    etag = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')
    event = delivered_once(s3, bucket, events_for, key)
    assert event["function"] == "ImageFunction"
    check_record(event["record"], bucket, key, body, "ObjectCreated:Put")
    assert event["record"]["s3"]["object"]["eTag"] == etag == hashlib.md5(body, usedforsecurity=False).hexdigest()
    assert " " not in event["record"]["s3"]["object"]["key"] and "+photo" in event["record"]["s3"]["object"]["key"]


def test_presigned_put_invokes_once(s3: Any, bucket: str, events_for: Any) -> None:
    key, body = f"images/{uuid.uuid4().hex}.png", b"presigned put"
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    assert httpx.put(url, content=body).status_code == 200
    event = delivered_once(s3, bucket, events_for, key)
    check_record(event["record"], bucket, key, body, "ObjectCreated:Put")
    assert event["record"]["s3"]["object"]["eTag"] == hashlib.md5(body, usedforsecurity=False).hexdigest()


def test_presigned_post_invokes_once(s3: Any, bucket: str, events_for: Any) -> None:
    key, body = f"images/{uuid.uuid4().hex} form.png", b"presigned post body"
    post = s3.generate_presigned_post(bucket, key, ExpiresIn=300)
    response = httpx.post(post["url"], data=post["fields"], files={"file": ("form.png", body, "image/png")})
    assert response.status_code in (200, 201, 204), response.text
    event = delivered_once(s3, bucket, events_for, key)
    check_record(event["record"], bucket, key, body, "ObjectCreated:Post")
    assert event["record"]["s3"]["object"]["eTag"] == hashlib.md5(body, usedforsecurity=False).hexdigest()


def test_multipart_upload_invokes_once_on_completion(s3: Any, bucket: str, events_for: Any) -> None:
    key = f"images/{uuid.uuid4().hex}.png"
    parts = [b"a" * (5 * 1024 * 1024), b"b" * 1024]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = [
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=part)["ETag"]
        for n, part in enumerate(parts, start=1)
    ]
    assert events_for(key) == [], "no event before the upload completes"
    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": n} for n, etag in enumerate(etags, start=1)]},
    )  # fmt: skip
    event = delivered_once(s3, bucket, events_for, key)
    check_record(event["record"], bucket, key, b"".join(parts), "ObjectCreated:CompleteMultipartUpload")
    assert event["record"]["s3"]["object"]["eTag"] == completed["ETag"].strip('"')
    assert event["record"]["s3"]["object"]["eTag"].endswith("-2")


def test_copy_object_invokes_once(s3: Any, bucket: str, events_for: Any) -> None:
    source, target, body = f"uploads/{uuid.uuid4().hex}", f"images/{uuid.uuid4().hex}.png", b"copied"
    s3.put_object(Bucket=bucket, Key=source, Body=body)
    s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": source})
    event = delivered_once(s3, bucket, events_for, target)
    check_record(event["record"], bucket, target, body, "ObjectCreated:Copy")


def test_keys_outside_the_filters_never_invoke(s3: Any, bucket: str, events_for: Any) -> None:
    tag = uuid.uuid4().hex
    ignored = [f"images/{tag}.jpg", f"other/{tag}.png", f"{tag}images/x.png"]
    for key in ignored:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    marker = f"images/{tag}-marker.png"  # sent last: once it arrived, the others would have too
    s3.put_object(Bucket=bucket, Key=marker, Body=b"x")
    delivered_once(s3, bucket, events_for, marker)
    for key in ignored:
        assert events_for(key) == [], key


def test_each_configuration_routes_to_its_function_including_removals(s3: Any, bucket: str, events_for: Any) -> None:
    key = f"reports/{uuid.uuid4().hex}.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=b"a,b")
    created = delivered_once(s3, bucket, events_for, key)
    assert created["function"] == "ReportFunction"
    s3.delete_object(Bucket=bucket, Key=key)
    events = wait_for(lambda: len(e := events_for(key)) >= 2 and e, message="the removal event")
    assert sorted(e["eventName"] for e in events) == ["ObjectCreated:Put", "ObjectRemoved:Delete"]
    assert {e["function"] for e in events} == {"ReportFunction"}
