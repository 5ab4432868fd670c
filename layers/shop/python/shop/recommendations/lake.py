"""The behaviour lake: bus events (behaviour events, and purchases derived from OrderConfirmed) as Parquet
in S3, partitioned by event time `events/dt=YYYY-MM-DD/hour=HH/`, the Firehose-like role.

- A batch from the queue becomes one Parquet object per hour it touches, named after the hash of its event
  ids, so a redelivered batch rewrites the same object instead of adding a copy; within a batch an event id
  appears once.
- Partitions are by when the event happened, not when it arrived: a late event lands in its own hour, next
  to the ones already there, and the next compaction of that hour takes it in.
- The batch is also kept as received (JSON Lines under `archive/`, like Firehose's source record backup):
  `replay_day` rebuilds a day's Parquet from it (a bug in the conversion, a lost object).
- `compact` rewrites an hour of many small objects as one, de-duplicated by event id (a retried send of the
  same event in two batches).

pyarrow is only in the lake writer's own package (functions/behaviour_lake/requirements.txt, stripped by
its Makefile), not in the shop layer every function carries: it is imported here, so only that function and
the tooling import this module.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shop import clock, events

EVENTS_PREFIX = "events/"
ARCHIVE_PREFIX = "archive/"
ORDER_CONFIRMED = "OrderConfirmed"
_PURCHASE_NAMESPACE = uuid.UUID("0b6f3c52-8a51-4f7e-9a34-6d6f1f0de2a1")

SCHEMA = pa.schema([
    ("eventId", pa.string()),
    ("eventType", pa.string()),
    ("schemaVersion", pa.int32()),
    ("occurredAt", pa.timestamp("ms", tz="UTC")),
    ("userId", pa.string()),
    ("itemId", pa.string()),
    ("category", pa.string()),
    ("term", pa.string()),
    ("resultsShown", pa.list_(pa.string())),
    ("quantity", pa.int32()),
    ("orderId", pa.string()),
    ("visitorId", pa.string()),  # VisitorIdentified: the anonymous id whose rows are now userId's
])  # fmt: skip


def rows_of(envelope: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The lake rows of one event envelope: one for a behaviour event, one per line for OrderConfirmed (a
    purchase, id derived from the order event's id and the line, so a redelivery derives the same ids), none
    for anything else."""
    data: Mapping[str, Any] = envelope.get("data") or {}
    occurred = clock.parse_iso(str(envelope["occurredAt"]))
    if envelope.get("type") == ORDER_CONFIRMED:
        rows = []
        for index, line in enumerate(data.get("lines") or []):
            rows.append(_row(
                str(uuid.uuid5(_PURCHASE_NAMESPACE, f"{envelope['id']}:{index}")), events.PURCHASED,
                events.BEHAVIOUR_SCHEMA_VERSION, occurred, user_id=data.get("userId"), item_id=line.get("itemId"),
                quantity=line.get("quantity"), order_id=data.get("orderId"),
            ))  # fmt: skip
        return rows
    if envelope.get("type") not in events.BEHAVIOUR_EVENTS:
        return []
    return [_row(
        str(envelope["id"]), str(envelope["type"]), int(data.get("schemaVersion", 1)), occurred,
        user_id=data.get("userId"), item_id=data.get("itemId"), category=data.get("category"),
        term=data.get("term"), results_shown=data.get("resultsShown"), quantity=data.get("quantity"),
        visitor_id=data.get("visitorId"),
    )]  # fmt: skip


def _row(event_id: str, event_type: str, version: int, occurred: datetime, **fields: Any) -> dict[str, Any]:
    names = {"user_id": "userId", "item_id": "itemId", "category": "category", "term": "term",
             "results_shown": "resultsShown", "quantity": "quantity", "order_id": "orderId",
             "visitor_id": "visitorId"}  # fmt: skip
    row: dict[str, Any] = {name: None for name in names.values()}
    row.update({names[key]: value for key, value in fields.items()})
    row.update(eventId=event_id, eventType=event_type, schemaVersion=version, occurredAt=occurred)
    return row


def hour_partition(moment: datetime) -> str:
    """The partition of a moment: `dt=YYYY-MM-DD/hour=HH` (UTC)."""
    return moment.astimezone(UTC).strftime("dt=%Y-%m-%d/hour=%H")


@dataclass
class WriteReport:
    envelopes: int = 0
    rows: int = 0
    objects: int = 0


class Lake:
    """The lake in one bucket, through an S3 client (boto3's; the local cloud's or AWS's)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3, self._bucket = s3, bucket

    # -- writing -----------------------------------------------------------------------------------
    def write_batch(self, envelopes: Sequence[Mapping[str, Any]], *, archive: bool = True) -> WriteReport:
        """Write one delivered batch: archived as received, then one Parquet object per event hour."""
        report = WriteReport(envelopes=len(envelopes))
        by_hour: dict[str, dict[str, dict[str, Any]]] = {}
        for envelope in envelopes:
            for row in rows_of(envelope):
                by_hour.setdefault(hour_partition(row["occurredAt"]), {}).setdefault(row["eventId"], row)
        if archive and envelopes:  # by event hour too, so a day's archive is all replay_day reads
            by_event_hour: dict[str, list[Mapping[str, Any]]] = {}
            for envelope in envelopes:
                moment = clock.parse_iso(str(envelope["occurredAt"]))
                by_event_hour.setdefault(hour_partition(moment), []).append(envelope)
            for partition, group in by_event_hour.items():
                body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in group).encode()
                name = _digest(str(e.get("id")) for e in group)
                self._s3.put_object(Bucket=self._bucket, Key=f"{ARCHIVE_PREFIX}{partition}/{name}.jsonl", Body=body)
        for partition, rows in by_hour.items():
            name = _digest(rows)
            self._put_parquet(f"{EVENTS_PREFIX}{partition}/part-{name}.parquet", list(rows.values()))
            report.rows += len(rows)
            report.objects += 1
        return report

    def _put_parquet(self, key: str, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(sorted(rows, key=lambda r: (r["occurredAt"], r["eventId"])), schema=SCHEMA)
        self._put_table(key, table)

    def _put_table(self, key: str, table: pa.Table) -> None:
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=buffer.getvalue())

    # -- reading -----------------------------------------------------------------------------------
    def keys(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield str(entry["Key"])

    def read_table(self, key: str) -> pa.Table:
        body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return pq.read_table(io.BytesIO(body), schema=SCHEMA)

    def partitions(self, day: str | None = None) -> dict[str, list[str]]:
        """The hour partitions under events/ (of one day if given) -> their Parquet objects."""
        found: dict[str, list[str]] = {}
        prefix = f"{EVENTS_PREFIX}dt={day}/" if day else EVENTS_PREFIX
        for key in self.keys(prefix):
            if key.endswith(".parquet"):
                found.setdefault(key[len(EVENTS_PREFIX) : key.rindex("/")], []).append(key)
        return found

    # -- compaction and replay ---------------------------------------------------------------------
    def compact(self, partition: str) -> int:
        """Rewrite an hour's objects as one, de-duplicated by event id; returns its rows. The new object is
        written before the old ones are deleted (a reader in between sees duplicates, which the job drops by
        event id, never a gap); its name is the hash of its ids, so compacting twice writes the same object."""
        keys = sorted(self.partitions(partition[3:13]).get(partition, []))
        if len(keys) <= 1:
            return 0
        table = deduplicated(pa.concat_tables([self.read_table(key) for key in keys]))
        target = f"{EVENTS_PREFIX}{partition}/compacted-{_digest(table.column('eventId').to_pylist())}.parquet"
        self._put_table(target, table)
        stale = [key for key in keys if key != target]
        for start in range(0, len(stale), 1000):
            objects = [{"Key": key} for key in stale[start : start + 1000]]
            self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": objects})
        return int(table.num_rows)

    def compact_all(self) -> dict[str, int]:
        """Compact every hour with more than one object; returns the rows of each compacted hour."""
        done = {}
        for partition, keys in sorted(self.partitions().items()):
            if len(keys) > 1:
                done[partition] = self.compact(partition)
        return done

    def replay_day(self, day: str) -> WriteReport:
        """Rebuild a day's Parquet (dt=`day`) from the archive: its objects are replaced by one compacted
        object per hour made from every archived envelope of that day."""
        envelopes = []
        for key in self.keys(f"{ARCHIVE_PREFIX}dt={day}/"):
            text = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read().decode()
            envelopes += [json.loads(line) for line in text.splitlines() if line.strip()]
        stale = [key for keys in self.partitions(day).values() for key in keys]
        for start in range(0, len(stale), 1000):
            objects = [{"Key": key} for key in stale[start : start + 1000]]
            self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": objects})
        report = self.write_batch(envelopes, archive=False)
        self.compact_all()
        return report


def deduplicated(table: pa.Table) -> pa.Table:
    """One row per event id (the first in time order), sorted by time then id."""
    table = table.sort_by([("occurredAt", "ascending"), ("eventId", "ascending")])
    ids = table.column("eventId").to_pylist()
    seen: set[str] = set()
    keep = []
    for index, event_id in enumerate(ids):
        if event_id not in seen:
            seen.add(event_id)
            keep.append(index)
    return table.take(pa.array(keep, type=pa.int64())) if len(keep) != len(ids) else table


def _digest(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:32]


