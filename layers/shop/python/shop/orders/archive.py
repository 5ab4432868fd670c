"""The order archive: finished orders leave the Orders table for S3, and are read back from there.

A finished order (shop.orders.lifecycle.TERMINAL) carries an archive TTL (expiresAt) set when it ended
(ship, close). DynamoDB's TTL service deletes the row once it passes; that REMOVE stream record, and only
that one (the service's userIdentity, an ORDER row), reaches the archiver (functions/order_archiver),
which writes the old image here. A row deleted by code is never archived: it was meant to go.

Layout (docs/decisions.md, "Order archive"): one JSON Lines object per order, partitioned the way Athena
or Glue expect, by the order's creation month:

    orders/user=<userId>/year=<YYYY>/month=<MM>/<orderId>.jsonl

plus its index entry (ArchivedOrderRow, sk ARCHIVED) in the Orders table, in the same byUser and
byUserStatus indexes as the live orders, which is what pages a buyer's history newest first across the
live/archived boundary with one cursor. Archiving is idempotent (the same object, the same entry), so a
stream retry or a replay of the failure queue may archive an order twice with one result.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shop import aws, clock
from shop.config import checkout_settings, required
from shop.dynamodb import stream_image
from shop.orders.tables import ORDER, ArchivedOrderRow, user_status

# DynamoDB's own TTL deletions carry this identity in their stream records (the local cloud's too).
TTL_SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
# Never copied into the archive: the card token is only needed while a payment can still be taken, and
# the archive TTL is the live row's own business.
_NOT_ARCHIVED = ("cardToken", "expiresAt")
ARCHIVE_CONTENT_TYPE = "application/x-ndjson"
_READERS = 16  # concurrent S3 reads of one page of archived orders


def archive_key(user_id: str, created_at: str, order_id: str) -> str:
    """Where an order's archived document lives: partitioned by buyer and creation month."""
    return f"orders/user={user_id}/year={created_at[:4]}/month={created_at[5:7]}/{order_id}.jsonl"


def archivable(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The order (the row's old image, plain values) when the stream record is the TTL service deleting an
    ORDER row, else None: a row deleted by code, or any other change, is not an archival."""
    if record.get("eventName") != "REMOVE" or record.get("userIdentity") != TTL_SERVICE:
        return None
    old = stream_image(record.get("dynamodb", {}).get("OldImage"))
    if not old or old.get("sk") != ORDER:
        return None
    return old


def document(order: Mapping[str, Any]) -> dict[str, Any]:
    """The archived form of an order row: all of it (lines, totals, address, history, payment summary)
    except what must not outlive the live row."""
    return {name: value for name, value in order.items() if name not in _NOT_ARCHIVED}


def archive(order: Mapping[str, Any]) -> str:
    """Write the order to the archive, then its index entry; returns the object's key. Idempotent.

    The object goes first: an index entry always points at an object that exists, and a failure in
    between leaves nothing a reader can see, for the stream's retry (or the replay) to complete.
    """
    doc = document(order)
    user_id, created_at, order_id = str(doc["userId"]), str(doc["createdAt"]), str(doc["orderId"])
    key = archive_key(user_id, created_at, order_id)
    _put(key, doc)
    status = str(doc["status"])
    ArchivedOrderRow(
        order_id, user_id=user_id, created_at=created_at, status=status, user_status=user_status(user_id, status),
        archive_key=key, archived_at=clock.now_iso(),
    ).save()  # fmt: skip
    return key


def rewrite(key: str, document: Mapping[str, Any]) -> None:
    """Replace an archived order's document and erase every earlier version of it (the bucket is versioned,
    and what is rewritten is personal data: DELETE /me, shop.orders.personal_data)."""
    s3, bucket = aws.s3(), _bucket()
    current = _put(key, document)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if version["Key"] == key and version["VersionId"] != current.get("VersionId", "null"):
                s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def _put(key: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """Write one order's document as its archive object (one JSON line); S3's answer (VersionId)."""
    body = json.dumps(dict(document), separators=(",", ":"), sort_keys=True) + "\n"
    answer: dict[str, Any] = aws.s3().put_object(
        Bucket=_bucket(), Key=key, Body=body.encode(), ContentType=ARCHIVE_CONTENT_TYPE
    )
    return answer


def read(key: str) -> dict[str, Any]:
    """An archived order's document."""
    body = aws.s3().get_object(Bucket=_bucket(), Key=key)["Body"].read()
    return dict(json.loads(body.decode().splitlines()[0]))


def read_all(keys: Iterable[str]) -> list[dict[str, Any]]:
    """Several archived orders' documents, in the order of `keys`, read concurrently (one page of a list)."""
    keys = list(keys)
    if len(keys) <= 1:
        return [read(key) for key in keys]
    with ThreadPoolExecutor(min(_READERS, len(keys))) as pool:
        return list(pool.map(read, keys))


def _bucket() -> str:
    return required(checkout_settings().order_archive_bucket, "ORDER_ARCHIVE_BUCKET")
