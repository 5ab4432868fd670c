"""The behaviour lake (shop.recommendations.lake) on moto's S3: Parquet by event hour, de-duplicated by event
id, redelivery-safe, late events in their own hour, compaction, and a day rebuilt from the archive."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from shop import events
from shop.recommendations.lake import Lake
from tests.unit.moto_tables import use_environment

BUCKET = "lake"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_environment(monkeypatch)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def viewed(event_id: str, at: str, item: str = "item_1", user: str | None = "user_1") -> dict[str, Any]:
    return {"id": event_id, "type": events.ITEM_VIEWED, "version": 1, "occurredAt": at, "source": "shop.behaviour",
            "data": {"schemaVersion": 1, "userId": user, "itemId": item, "category": "books"}}  # fmt: skip


def confirmed(event_id: str, at: str, items: list[str]) -> dict[str, Any]:
    return {"id": event_id, "type": "OrderConfirmed", "version": 1, "occurredAt": at, "source": "shop.orders",
            "data": {"orderId": "order_1", "userId": "user_1",
                     "lines": [{"itemId": item, "quantity": 2} for item in items]}}  # fmt: skip


def parquet_keys(s3: Any, prefix: str = "events/") -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(entry["Key"] for entry in listed if entry["Key"].endswith(".parquet"))


def rows(s3: Any, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return list(pq.read_table(io.BytesIO(body)).to_pylist())


def test_a_batch_becomes_parquet_per_event_hour_with_each_event_once(s3: Any) -> None:
    report = Lake(s3, BUCKET).write_batch([
        viewed("e1", "2026-11-30T10:15:00.000Z"), viewed("e1", "2026-11-30T10:15:00.000Z"),  # sent twice
        viewed("e2", "2026-11-30T11:01:00.000Z"),
    ])  # fmt: skip
    keys = parquet_keys(s3)
    assert [key.rsplit("/", 1)[0] for key in keys] == ["events/dt=2026-11-30/hour=10", "events/dt=2026-11-30/hour=11"]
    assert [row["eventId"] for row in rows(s3, keys[0])] == ["e1"]
    assert report.rows == 2
    row = rows(s3, keys[0])[0]
    assert (row["eventType"], row["schemaVersion"], row["userId"], row["itemId"], row["category"]) == (
        "ItemViewed", 1, "user_1", "item_1", "books")


def test_a_redelivered_batch_rewrites_the_same_object(s3: Any) -> None:
    lake = Lake(s3, BUCKET)
    batch = [viewed("e1", "2026-11-30T10:15:00.000Z"), viewed("e2", "2026-11-30T10:20:00.000Z")]
    lake.write_batch(batch)
    lake.write_batch(list(reversed(batch)))
    assert len(parquet_keys(s3)) == 1


def test_purchases_are_derived_from_order_confirmed_one_row_per_line(s3: Any) -> None:
    lake = Lake(s3, BUCKET)
    lake.write_batch([confirmed("order-event", "2026-11-30T09:00:00.000Z", ["item_1", "item_2"]),
                      {**viewed("other", "2026-11-30T09:00:00.000Z"), "type": "ItemUpdated"}])  # fmt: skip
    lake.write_batch([confirmed("order-event", "2026-11-30T09:00:00.000Z", ["item_1", "item_2"])])  # redelivered
    lake.compact("dt=2026-11-30/hour=09")
    purchased = rows(s3, parquet_keys(s3)[0])
    assert sorted((row["eventType"], row["itemId"], row["quantity"]) for row in purchased) == [
        ("Purchased", "item_1", 2), ("Purchased", "item_2", 2)]


def test_a_late_event_lands_in_its_own_hour_and_compaction_keeps_each_event_once(s3: Any) -> None:
    lake = Lake(s3, BUCKET)
    lake.write_batch([viewed("e1", "2026-11-30T08:10:00.000Z"), viewed("e2", "2026-11-30T08:20:00.000Z")])
    lake.compact_all()
    # An hour later a batch brings an 08:00 event late, and a retried send of e1 in another batch.
    lake.write_batch([viewed("late", "2026-11-30T08:59:00.000Z"), viewed("e1", "2026-11-30T08:10:00.000Z"),
                      viewed("now", "2026-11-30T09:30:00.000Z")])  # fmt: skip
    hour_8 = [key for key in parquet_keys(s3) if "hour=08" in key]
    assert len(hour_8) == 2  # the late event is in hour 08, next to the compacted object
    assert lake.compact_all() == {"dt=2026-11-30/hour=08": 3}
    (compacted,) = [key for key in parquet_keys(s3) if "hour=08" in key]
    assert [row["eventId"] for row in rows(s3, compacted)] == ["e1", "e2", "late"]
    assert lake.compact_all() == {}  # nothing left to compact


def test_replay_rebuilds_a_day_from_the_archive(s3: Any) -> None:
    lake = Lake(s3, BUCKET)
    lake.write_batch([viewed("e1", "2026-11-29T23:10:00.000Z"), viewed("e2", "2026-11-30T00:20:00.000Z")])
    lake.write_batch([viewed("e3", "2026-11-30T00:40:00.000Z")])
    for key in parquet_keys(s3, "events/dt=2026-11-30/"):  # the day's Parquet is lost
        s3.delete_object(Bucket=BUCKET, Key=key)
    report = lake.replay_day("2026-11-30")
    assert report.rows == 2
    (rebuilt,) = parquet_keys(s3, "events/dt=2026-11-30/")
    assert [row["eventId"] for row in rows(s3, rebuilt)] == ["e2", "e3"]
    assert len(parquet_keys(s3, "events/dt=2026-11-29/")) == 1  # the day before is untouched
