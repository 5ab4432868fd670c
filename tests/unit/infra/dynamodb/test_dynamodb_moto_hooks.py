"""infra.dynamodb.moto_hooks: on moto's DynamoDB, a cancelled transaction leaves the table's stream readable
by the iterators handed out before it, and without records of the writes it undid."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.server import ThreadedMotoServer

from infra.core.aws import REGION
from infra.core.clients import local_client
from infra.dynamodb import moto_hooks


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server in this process (as the cloud runs one), so the hooks installed here apply to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch) -> None:
    for owner, name in ((DynamoDBBackend, "transact_write_items"), (DynamoHandler, "call_action"),
                        (DynamoDBStreamsHandler, "call_action")):  # fmt: skip
        monkeypatch.setattr(owner, name, getattr(owner, name))  # restored after the test
    monkeypatch.setattr(moto_hooks, "_ORIGINALS", {})
    moto_hooks.install()


@pytest.fixture
def table(moto_url: str) -> tuple[Any, str, str]:
    """A client, a new table with a stream, and that stream's ARN."""
    dynamodb, name = local_client("dynamodb", moto_url, REGION), f"Orders-{uuid.uuid4().hex[:8]}"
    arn = dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]  # fmt: skip
    return dynamodb, name, arn


def _reader(moto_url: str, arn: str) -> Iterator[list[str]]:
    """What a stream consumer sees: each call, the ids written since the last one (one iterator chain)."""
    streams = local_client("dynamodbstreams", moto_url, REGION)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    position = iterator["ShardIterator"]
    while True:
        answer = streams.get_records(ShardIterator=position)
        position = answer["NextShardIterator"]
        yield [record["dynamodb"]["Keys"]["id"]["S"] for record in answer["Records"]]


def _cancelled_transaction(dynamodb: Any, name: str) -> None:
    """A put that applies, then a condition that fails: moto applies the put, then rolls the table back."""
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {"id": {"S": "undone"}}}},
            {"Put": {"TableName": name, "Item": {"id": {"S": "first"}},
                     "ConditionExpression": "attribute_not_exists(id)"}},
        ])  # fmt: skip


@pytest.mark.usefixtures("hooked")
def test_a_cancelled_transaction_leaves_the_stream_readable_and_without_what_it_undid(
    moto_url: str, table: tuple[Any, str, str]
) -> None:
    dynamodb, name, arn = table
    reader = _reader(moto_url, arn)
    dynamodb.put_item(TableName=name, Item={"id": {"S": "first"}})
    assert next(reader) == ["first"]
    _cancelled_transaction(dynamodb, name)
    dynamodb.put_item(TableName=name, Item={"id": {"S": "after"}})
    assert next(reader) == ["after"]  # the consumer's iterator still follows the table's stream
    assert dynamodb.get_item(TableName=name, Key={"id": {"S": "undone"}}).get("Item") is None


def test_without_the_hooks_moto_orphans_the_stream_readers(moto_url: str, table: tuple[Any, str, str]) -> None:
    """What the hooks fix, shown on moto's own code: the later write never reaches the earlier iterator."""
    dynamodb, name, arn = table
    reader = _reader(moto_url, arn)
    dynamodb.put_item(TableName=name, Item={"id": {"S": "first"}})
    assert next(reader) == ["first"]
    _cancelled_transaction(dynamodb, name)
    dynamodb.put_item(TableName=name, Item={"id": {"S": "after"}})
    assert next(reader) == ["undone"]  # a write that never happened; then nothing more, ever
    assert next(reader) == []
