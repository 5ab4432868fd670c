"""The TTL sweeper, end to end: expired items disappear from DynamoDB Local, and their REMOVE stream records
reach the consumer marked as AWS marks TTL deletions, while deletions made by code are not."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from infra.core.clients import sdk_client
from infra.launcher import RunningCloud

SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
T = TypeVar("T")


class TtlCloud:
    def __init__(self, state: dict[str, Any]) -> None:
        self.outputs: dict[str, str] = state["outputs"]
        self.dynamodb = sdk_client("dynamodb", state["environment"])
        self.table = self.outputs["TtlTableName"]

    def put(self, pk: str, expires_at: dict[str, str] | None) -> None:
        item: dict[str, Any] = {"pk": {"S": pk}}
        if expires_at is not None:
            item["expiresAt"] = expires_at
        self.dynamodb.put_item(TableName=self.table, Item=item)

    def exists(self, pk: str) -> bool:
        return "Item" in self.dynamodb.get_item(TableName=self.table, Key={"pk": {"S": pk}}, ConsistentRead=True)

    def removal(self, run: str, pk: str, timeout: float = 60) -> dict[str, Any]:
        """The REMOVE record the consumer received for pk."""

        def probe() -> dict[str, Any] | None:
            items = self.dynamodb.query(
                TableName=self.outputs["LogTableName"], KeyConditionExpression="pk = :run",
                ExpressionAttributeValues={":run": {"S": run}}, ConsistentRead=True,
            )["Items"]  # fmt: skip
            records = [json.loads(item["record"]["S"]) for item in items]
            return next(
                (r for r in records if r["eventName"] == "REMOVE" and r["dynamodb"]["Keys"]["pk"]["S"] == pk), None
            )

        return eventually(probe, timeout)


def eventually(probe: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cloud(services: RunningCloud) -> TtlCloud:
    return TtlCloud(services.state)


def test_expired_item_is_deleted_and_its_removal_marked_as_the_ttl_service(cloud: TtlCloud) -> None:
    run = uuid.uuid4().hex
    expired_at = str(int(time.time()) - 10)
    cloud.put(f"{run}#expired", {"N": expired_at})
    record = cloud.removal(run, f"{run}#expired")
    assert record["userIdentity"] == SERVICE
    assert record["dynamodb"]["OldImage"]["expiresAt"] == {"N": expired_at}
    assert not cloud.exists(f"{run}#expired")


def test_removal_by_code_carries_no_user_identity(cloud: TtlCloud) -> None:
    run = uuid.uuid4().hex
    cloud.put(f"{run}#deleted", {"N": str(int(time.time()) + 3600)})
    cloud.dynamodb.delete_item(TableName=cloud.table, Key={"pk": {"S": f"{run}#deleted"}})
    record = cloud.removal(run, f"{run}#deleted")
    assert "userIdentity" not in record


def test_extended_missing_non_numeric_and_ancient_ttls_are_kept(cloud: TtlCloud) -> None:
    run = uuid.uuid4().hex
    soon = {"N": str(int(time.time()) + 2)}
    cloud.put(f"{run}#extended", soon)
    cloud.put(f"{run}#sentinel", soon)
    cloud.put(f"{run}#no-ttl", None)
    cloud.put(f"{run}#string-ttl", {"S": "1"})
    cloud.put(f"{run}#ancient", {"N": str(int(time.time()) - 6 * 365 * 24 * 3600)})  # AWS ignores > 5 years
    cloud.dynamodb.update_item(
        TableName=cloud.table, Key={"pk": {"S": f"{run}#extended"}}, UpdateExpression="SET expiresAt = :later",
        ExpressionAttributeValues={":later": {"N": str(int(time.time()) + 3600)}},
    )  # fmt: skip
    # The sentinel expired at the same moment: once its removal arrives, a sweep past that moment has run.
    assert cloud.removal(run, f"{run}#sentinel")["userIdentity"] == SERVICE
    for kept in ("extended", "no-ttl", "string-ttl", "ancient"):
        assert cloud.exists(f"{run}#{kept}"), kept
