"""Bulk onboarding over real HTTP and S3: POST /imports, a presigned POST upload, the S3 notification,
the report at GET /imports/{id}, and a redelivered notification that creates nothing twice."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.support.users import error_code, register

GOOD = {"name": "Desk Lamp", "description": "LED", "price": 2599, "quantity": 10, "category": "Home"}


@pytest.fixture(scope="module")
def importer(api):
    return register(api, "seller")


def start(api, seller, file_format: str) -> dict:
    started = api.post("/imports", json={"format": file_format}, headers=seller.auth)
    assert started.status_code == 201, started.text
    body = started.json()
    assert started.headers["location"] == f"/imports/{body['importId']}" and body["status"] == "PENDING"
    assert body["upload"]["method"] == "POST" and body["upload"]["fields"]["key"].endswith(f".{file_format}")
    return body


def upload(started: dict, content: bytes, filename: str) -> None:
    form = started["upload"]
    response = httpx.post(form["url"], data=form["fields"], files={"file": (filename, content)}, timeout=30)
    assert response.status_code in (200, 201, 204), response.text


def finished(api, seller, import_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        report = api.get(f"/imports/{import_id}", headers=seller.auth)
        assert report.status_code == 200, report.text
        if report.json()["status"] in ("COMPLETED", "FAILED"):
            return report.json()
        assert time.monotonic() < deadline, f"import still {report.json()['status']} after {timeout} s"
        time.sleep(0.2)


def seller_items(stack, seller_id: str) -> list[dict]:
    result = stack.client("dynamodb").query(
        TableName=stack.outputs["ItemsTableName"], IndexName="bySeller", KeyConditionExpression="sellerId = :s",
        ExpressionAttributeValues={":s": {"S": seller_id}},
    )  # fmt: skip
    return result["Items"]


def test_jsonl_import_creates_good_rows_and_reports_bad_ones(api, stack, importer):
    sku = f"LAMP-{uuid.uuid4().hex[:6]}"
    lines = [
        json.dumps({**GOOD, "sku": sku}),
        json.dumps({**GOOD, "price": 9.99}),
        "not json",
        json.dumps({**GOOD, "name": "Ivory lamp"}),
        "",
        json.dumps({**GOOD, "name": "Second lamp", "sku": sku.lower()}),
        json.dumps({**GOOD, "name": "Third lamp", "tags": ["Desk", "desk"]}),
    ]
    started = start(api, importer, "jsonl")
    before = len(seller_items(stack, importer.user_id))
    upload(started, "\n".join(lines).encode(), "lamps.jsonl")
    report = finished(api, importer, started["importId"])
    assert report["status"] == "COMPLETED", report
    assert (report["total"], report["created"], report["failed"]) == (6, 2, 4)
    assert [(e["row"], e["code"], e["field"]) for e in report["errors"]] == [
        (2, "VALIDATION_FAILED", "price"),
        (3, "MALFORMED_JSON", None),
        (4, "BANNED_TERM", "name"),
        (6, "DUPLICATE_SKU", "sku"),
    ]
    items = seller_items(stack, importer.user_id)
    assert len(items) == before + 2
    names = {row["name"]["S"] for row in items}
    assert {"Desk Lamp", "Third lamp"} <= names
    third = next(row for row in items if row["name"]["S"] == "Third lamp")
    fetched = api.get(f"/items/{third['itemId']['S']}").json()
    assert (fetched["category"], fetched["tags"], fetched["available"]) == ("home", ["desk"], 10)


def test_csv_import_and_a_redelivered_notification_create_nothing_twice(api, stack, importer, local_only):
    seller = register(api, "seller")
    csv_text = (
        "name,description,price,quantity,sku,brand,category,tags\n"
        'Notebook,"A5, dotted",499,40,NB-1,Leuchtturm,Stationery,paper;Notebook;paper\n'
        "Pen,,abc,5,,,,\n"
        "Pencil,,99,100,PC-1,,,\n"
        "Atlas,,10,1,,,Books,\n"
    )
    started = start(api, seller, "csv")
    upload(started, csv_text.encode(), "stock.csv")
    report = finished(api, seller, started["importId"])
    assert (report["status"], report["total"], report["created"], report["failed"]) == ("COMPLETED", 4, 2, 2)
    assert [(e["row"], e["code"], e["field"]) for e in report["errors"]] == [
        (2, "VALIDATION_FAILED", "price"),
        (4, "PRICE_OUT_OF_RANGE", "price"),
    ]
    items = seller_items(stack, seller.user_id)
    notebook = next(row for row in items if row["name"]["S"] == "Notebook")
    assert [tag["S"] for tag in notebook["tags"]["L"]] == ["paper", "notebook"]
    assert notebook["brand"]["S"] == "Leuchtturm" and notebook["category"]["S"] == "stationery"

    # The S3 notification delivered again, as Lambda's asynchronous retry would: nothing new is created.
    key = started["upload"]["fields"]["key"]
    bucket = stack.outputs["ImportsBucketName"]
    head = stack.client("s3").head_object(Bucket=bucket, Key=key)
    event = {
        "Records": [
            {
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key, "size": head["ContentLength"], "eTag": head["ETag"].strip('"')},
                },
            }
        ]
    }  # fmt: skip
    for _ in range(2):
        invoked = stack.client("lambda").invoke(
            FunctionName="ImportProcessorFunction", Payload=json.dumps(event).encode()
        )
        assert "FunctionError" not in invoked, invoked["Payload"].read()
    assert len(seller_items(stack, seller.user_id)) == 2
    again = api.get(f"/imports/{started['importId']}", headers=seller.auth).json()
    assert (again["status"], again["created"], again["failed"]) == ("COMPLETED", 2, 2)


def test_a_bad_csv_header_fails_the_import(api, importer):
    started = start(api, importer, "csv")
    upload(started, b"title,price\nLamp,100\n", "bad.csv")
    report = finished(api, importer, started["importId"])
    assert report["status"] == "FAILED" and report["failureReason"].startswith("BAD_CSV_HEADER"), report
    assert report["created"] == 0


def test_imports_belong_to_their_seller(api, importer, buyer):
    started = start(api, importer, "jsonl")
    stranger = register(api, "seller")
    hidden = api.get(f"/imports/{started['importId']}", headers=stranger.auth)
    assert hidden.status_code == 404 and error_code(hidden) == "IMPORT_NOT_FOUND"
    assert api.get(f"/imports/{started['importId']}").status_code == 401
    refused = api.post("/imports", json={"format": "jsonl"}, headers=buyer.auth)
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    unknown = api.post("/imports", json={"format": "xlsx"}, headers=importer.auth)
    assert unknown.status_code == 422 and error_code(unknown) == "VALIDATION_FAILED"


def test_a_second_upload_while_the_import_runs_is_ignored(api, stack):
    seller = register(api, "seller")
    rows = [json.dumps({**GOOD, "name": f"Lamp {n}"}) for n in range(150)]
    started = start(api, seller, "jsonl")
    upload(started, "\n".join(rows).encode(), "lamps.jsonl")
    deadline = time.monotonic() + 30
    while api.get(f"/imports/{started['importId']}", headers=seller.auth).json()["status"] == "PENDING":
        assert time.monotonic() < deadline, "the import never started"
        time.sleep(0.05)
    # The same form used again while the first file is imported: one import takes one file.
    upload(started, json.dumps({**GOOD, "name": "Intruder lamp"}).encode(), "other.jsonl")
    report = finished(api, seller, started["importId"], timeout=120)
    assert (report["status"], report["total"], report["created"]) == ("COMPLETED", 150, 150), report
    time.sleep(2)  # the second upload's notification has long been delivered: it must have changed nothing
    items = seller_items(stack, seller.user_id)
    assert len(items) == 150 and "Intruder lamp" not in {row["name"]["S"] for row in items}
    again = api.get(f"/imports/{started['importId']}", headers=seller.auth).json()
    assert (again["status"], again["total"], again["created"]) == ("COMPLETED", 150, 150)
