"""The TTL sweeper, end to end: expired items disappear from DynamoDB Local, and their REMOVE stream records
reach the consumer marked as AWS marks TTL deletions, while deletions made by code are not."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from infra.core.clients import sdk_client
from infra.launcher import RunningCloud
from tests.support.polling import eventually

SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


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


@pytest.fixture(scope="module")
def ttl(cloud: RunningCloud) -> TtlCloud:
    return TtlCloud(cloud.state)


def test_expired_item_is_deleted_and_its_removal_marked_as_the_ttl_service(ttl: TtlCloud) -> None:
    run = uuid.uuid4().hex
    expired_at = str(int(time.time()) - 10)
    ttl.put(f"{run}#expired", {"N": expired_at})
    record = ttl.removal(run, f"{run}#expired")
    assert record["userIdentity"] == SERVICE
    assert record["dynamodb"]["OldImage"]["expiresAt"] == {"N": expired_at}
    assert not ttl.exists(f"{run}#expired")


def test_removal_by_code_carries_no_user_identity(ttl: TtlCloud) -> None:
    run = uuid.uuid4().hex
    ttl.put(f"{run}#deleted", {"N": str(int(time.time()) + 3600)})
    ttl.dynamodb.delete_item(TableName=ttl.table, Key={"pk": {"S": f"{run}#deleted"}})
    record = ttl.removal(run, f"{run}#deleted")
    assert "userIdentity" not in record


def test_extended_missing_non_numeric_and_ancient_ttls_are_kept(ttl: TtlCloud) -> None:
    run = uuid.uuid4().hex
    soon = {"N": str(int(time.time()) + 2)}
    ttl.put(f"{run}#extended", soon)
    ttl.put(f"{run}#sentinel", soon)
    ttl.put(f"{run}#no-ttl", None)
    ttl.put(f"{run}#string-ttl", {"S": "1"})
    ttl.put(f"{run}#ancient", {"N": str(int(time.time()) - 6 * 365 * 24 * 3600)})  # AWS ignores > 5 years
    ttl.dynamodb.update_item(
        TableName=ttl.table, Key={"pk": {"S": f"{run}#extended"}}, UpdateExpression="SET expiresAt = :later",
        ExpressionAttributeValues={":later": {"N": str(int(time.time()) + 3600)}},
    )  # fmt: skip
    # The sentinel expired at the same moment: once its removal arrives, a sweep past that moment has run.
    assert ttl.removal(run, f"{run}#sentinel")["userIdentity"] == SERVICE
    for kept in ("extended", "no-ttl", "string-ttl", "ancient"):
        assert ttl.exists(f"{run}#{kept}"), kept
