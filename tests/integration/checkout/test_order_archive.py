"""Order archival end to end, on a cloud of its own whose finished orders are archived ARCHIVE_AFTER seconds
after they ended (template parameter ArchiveAfterSeconds): the order leaves the Orders table, appears in the
S3 archive and in GET /orders with `archived: true`; a failing archiver, then the replay, loses nothing; a
row deleted by code is not archived. Also ETag / If-None-Match on GET /orders/{orderId}.

Orders are finished by cancelling them (card 3220 waits for the buyer's approval, so the order is still
cancellable), which closes them and gives them their archive TTL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import SESSION_EDGE_LIMITS, Stack, _local_stack, local_cloud
from tests.support.checkout import checkout, fill_cart, listed_item, place, wait_order
from tests.support.faults import clear_faults, set_faults
from tests.support.polling import eventually
from tests.support.users import User, register

ARCHIVE_AFTER_SECONDS = 2
# Every write of an archive index entry fails (an archived order is its object, then its entry): the archiver
# fails its record until the stream mapping gives the batch up to the failure queue.
INDEX_WRITES_FAIL = "dynamodb.error@OrdersTable/PutItem=1"


@pytest.fixture(scope="module")
def archive_stack(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[Stack]:
    if not stack.local:
        pytest.skip("needs a local cloud with a short ArchiveAfterSeconds")
    cloud = local_cloud(tmp_path_factory, "archive",
                        overrides=["EnableDiagnostics=true", f"ArchiveAfterSeconds={ARCHIVE_AFTER_SECONDS}",
                                   *SESSION_EDGE_LIMITS])  # fmt: skip
    try:
        yield _local_stack(cloud)
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def archive_api(archive_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=archive_stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def listing(archive_api: httpx.Client) -> str:
    return listed_item(archive_api, quantity=500)


def finished_order(api: httpx.Client, item: str) -> tuple[User, dict[str, Any]]:
    """A new buyer's order, cancelled (so finished, with its archive TTL)."""
    buyer, accepted = place(api, item, "3220")
    wait_order(api, buyer, accepted["orderId"], {"CREATED"})
    cancelled = api.post(f"/orders/{accepted['orderId']}/cancel", headers=buyer.auth)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    return buyer, cancelled.json()


def live_row(stack: Stack, order_id: str) -> dict[str, Any] | None:
    found = stack.client("dynamodb").get_item(
        TableName=stack.outputs["OrdersTableName"], Key={"orderId": {"S": order_id}, "sk": {"S": "ORDER"}},
        ConsistentRead=True,
    )  # fmt: skip
    return found.get("Item")


def archived_keys(stack: Stack, user_id: str) -> list[str]:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.outputs["OrderArchiveBucketName"], Prefix=f"orders/user={user_id}/"
    )
    return [str(entry["Key"]) for entry in listed.get("Contents", [])]


def archived_in_list(api: httpx.Client, buyer: User, order_id: str) -> dict[str, Any] | None:
    orders = api.get("/orders", headers=buyer.auth).json()["orders"]
    return next((o for o in orders if o["orderId"] == order_id and o.get("archived")), None)


def test_a_finished_order_moves_to_the_archive_and_reads_through(
    archive_stack: Stack, archive_api: httpx.Client, listing: str
) -> None:
    buyer, order = finished_order(archive_api, listing)
    order_id, user_id = order["orderId"], order["userId"]
    listed = eventually(lambda: archived_in_list(archive_api, buyer, order_id), timeout=60,
                        message="the order archived and listed as such")  # fmt: skip
    assert live_row(archive_stack, order_id) is None  # it left the table
    (key,) = archived_keys(archive_stack, user_id)
    assert key.startswith(f"orders/user={user_id}/year={order['createdAt'][:4]}/month={order['createdAt'][5:7]}/")
    assert key.endswith(f"/{order_id}.jsonl")
    body = archive_stack.client("s3").get_object(Bucket=archive_stack.outputs["OrderArchiveBucketName"], Key=key)
    text = body["Body"].read().decode()
    assert "cardToken" not in text  # the card token never outlives the live row
    one = archive_api.get(f"/orders/{order_id}", headers=buyer.auth)
    assert one.status_code == 200, one.text
    assert one.json() == listed
    assert listed["archived"] is True
    assert {k: v for k, v in listed.items() if k != "archived"} == {k: v for k, v in order.items() if k != "archived"}
    assert [h["status"] for h in listed["history"]][-1] == "CANCELLED"
    # The same authorisation as a live order: another buyer's archived order does not exist for them.
    other, _ = place(archive_api, listing, "3220")
    assert archive_api.get(f"/orders/{order_id}", headers=other.auth).status_code == 404
    # The status filter reads the archived entry through its index too.
    cancelled = archive_api.get("/orders", params={"status": "CANCELLED"}, headers=buyer.auth).json()["orders"]
    assert [(o["orderId"], o["archived"]) for o in cancelled] == [(order_id, True)]
    assert archive_api.get("/orders", params={"status": "CREATED"}, headers=buyer.auth).json()["orders"] == []


def test_one_cursor_pages_across_live_and_archived_orders(archive_api: httpx.Client, listing: str) -> None:
    buyer, first = finished_order(archive_api, listing)
    eventually(lambda: archived_in_list(archive_api, buyer, first["orderId"]), timeout=60, message="archived")
    cart = archive_api.patch("/cart", headers=buyer.auth, json={"itemId": listing, "quantity": 1}).json()
    second = checkout(archive_api, buyer, cart, "3220").json()["orderId"]  # live: waits for approval
    page = archive_api.get("/orders", params={"size": 1}, headers=buyer.auth).json()
    assert [(o["orderId"], o["archived"]) for o in page["orders"]] == [(second, False)]
    rest = archive_api.get("/orders", params={"size": 1, "cursor": page["nextCursor"]}, headers=buyer.auth).json()
    assert [(o["orderId"], o["archived"]) for o in rest["orders"]] == [(first["orderId"], True)]


def test_a_failing_archiver_then_the_replay_loses_nothing(
    archive_stack: Stack, archive_api: httpx.Client, listing: str
) -> None:
    buyer, order = finished_order(archive_api, listing)
    order_id = order["orderId"]
    set_faults(archive_stack, INDEX_WRITES_FAIL)  # set once the order is closed: its TTL has not passed yet
    try:
        sqs, queue = archive_stack.client("sqs"), archive_stack.outputs["OrderArchiveFailureQueueUrl"]

        def failure_queued() -> bool:
            attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0

        eventually(failure_queued, timeout=90, message="the archiver's batch discarded to its failure queue")
        assert live_row(archive_stack, order_id) is None  # the TTL service deleted it and nothing archived it:
        assert archive_api.get(f"/orders/{order_id}", headers=buyer.auth).status_code == 404  # the buyer lost it
        assert archive_api.get("/orders", headers=buyer.auth).json()["orders"] == []
    finally:
        clear_faults(archive_stack)
    assert archive_stack.cloud is not None
    replayed = subprocess.run(
        [sys.executable, "-m", "infra", "replay-archive"], check=False, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SHOP_CLOUD_STATE": str(archive_stack.cloud.workdir / "cloud.json")},
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "1 batch(es) replayed" in replayed.stdout, replayed.stdout
    assert len(archived_keys(archive_stack, order["userId"])) == 1
    got = archive_api.get(f"/orders/{order_id}", headers=buyer.auth)
    assert got.status_code == 200 and got.json()["archived"] is True, got.text


def test_a_row_deleted_by_code_is_not_archived(archive_stack: Stack, archive_api: httpx.Client, listing: str) -> None:
    dynamodb, table = archive_stack.client("dynamodb"), archive_stack.outputs["OrdersTableName"]
    buyer, accepted = place(archive_api, listing, "3220")
    order_id = accepted["orderId"]
    user_id = wait_order(archive_api, buyer, order_id, {"CREATED"})["userId"]
    dynamodb.delete_item(TableName=table, Key={"orderId": {"S": order_id}, "sk": {"S": "ORDER"}})
    # An order the TTL service archives after the delete: the stream delivers in order, so once it is
    # archived the archiver has seen the deletion before it.
    later_buyer, later = finished_order(archive_api, listing)
    eventually(lambda: archived_in_list(archive_api, later_buyer, later["orderId"]), timeout=60, message="archived")
    assert archived_keys(archive_stack, user_id) == []
    assert archive_api.get(f"/orders/{order_id}", headers=buyer.auth).status_code == 404


def test_order_reads_answer_an_etag_and_304_when_unchanged(archive_api: httpx.Client, listing: str) -> None:
    buyer, accepted = place(archive_api, listing, "3220")
    order = wait_order(archive_api, buyer, accepted["orderId"], {"CREATED"})
    first = archive_api.get(f"/orders/{order['orderId']}", headers=buyer.auth)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    unchanged = archive_api.get(f"/orders/{order['orderId']}", headers={**buyer.auth, "If-None-Match": etag})
    assert unchanged.status_code == 304, unchanged.text
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    other = archive_api.get(f"/orders/{order['orderId']}", headers={**buyer.auth, "If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.headers["etag"] == etag
    cancelled = archive_api.post(f"/orders/{order['orderId']}/cancel", headers=buyer.auth)
    assert cancelled.status_code == 200, cancelled.text
    changed = archive_api.get(f"/orders/{order['orderId']}", headers={**buyer.auth, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_deleting_the_account_anonymises_its_archived_orders_and_erases_earlier_versions(
    archive_stack: Stack, archive_api: httpx.Client, listing: str
) -> None:
    buyer = register(archive_api, "buyer")
    address = {"name": "Ada Archive", "line1": "12 Hidden Lane", "city": "Austin", "region": "TX",
               "postalCode": "78701", "country": "US"}  # fmt: skip
    assert archive_api.post("/me/addresses", headers=buyer.auth, json=address).status_code == 201
    placed = checkout(archive_api, buyer, fill_cart(archive_api, buyer, listing), "3220")
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["orderId"]
    wait_order(archive_api, buyer, order_id, {"CREATED"})
    assert archive_api.post(f"/orders/{order_id}/cancel", headers=buyer.auth).status_code == 200
    eventually(lambda: archived_in_list(archive_api, buyer, order_id), timeout=60, message="archived")

    assert archive_api.delete("/me", headers=buyer.auth).status_code == 204
    s3, bucket = archive_stack.client("s3"), archive_stack.outputs["OrderArchiveBucketName"]
    (key,) = archived_keys(archive_stack, buyer.user_id)
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert json.loads(text)["address"] == {"country": "US", "taxRegion": "US-TX", "anonymised": True}
    assert "Hidden Lane" not in text and "Ada Archive" not in text
    # The bucket is versioned: the document as first archived (with the address) must be gone too.
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
    assert [v["Key"] for v in versions.get("Versions", [])] == [key]
