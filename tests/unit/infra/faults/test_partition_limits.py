"""The partition-limit emulation (dynamodb.partition-writes / -reads, infra.faults.worker.PartitionBuckets) on
real boto3 clients, and the call counts the same hook keeps.

As in test_dynamodb_faults.py, the clients are faulted_clients.py's. The buckets' clock is a fake one the test
moves, so that what is throttled does not depend on how fast the machine runs the loop."""

from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.session import Session
from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from infra.faults.spec import FaultSpecError, Resources, parse
from infra.faults.worker import install
from shop.dynamodb import cancellation, transient
from tests.unit.infra.faults.faulted_clients import ENDPOINT, FaultedWorker, dynamodb_answers_ok

STACK = Resources(
    tables={"Stock": "shop-Stock", "Orders": "shop-Orders"},
    hash_keys={"shop-Stock": "itemId", "shop-Orders": "orderId"},
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Limits(FaultedWorker):
    """A FaultedWorker whose partition buckets run on a clock the test moves."""

    def __init__(self, tmp_path: Any) -> None:
        super().__init__(tmp_path, STACK)
        self.clock = FakeClock()
        assert self.worker.buckets is not None
        self.worker.buckets.clock = self.clock


@pytest.fixture
def limits(tmp_path):
    return Limits(tmp_path)


def _update(client: Any, item: str) -> bool:
    """One write to the stock row of `item`: True if DynamoDB took it, False if it was throttled."""
    try:
        client.update_item(TableName="shop-Stock", Key={"itemId": {"S": item}, "variantId": {"S": "default"}},
                           UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"N": "1"}})  # fmt: skip
    except ClientError as error:
        refused = error.response
    else:
        return True
    assert refused["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "hot key" in refused["Error"]["Message"]
    return False


def test_a_burst_on_one_key_is_throttled_beyond_the_rate_and_refills_with_time(limits):
    limits.set("dynamodb.partition-writes@Stock=10")
    client = limits.client()
    assert [_update(client, "hot") for _ in range(12)] == [True] * 10 + [False] * 2
    limits.clock.now += 0.5  # half a second: five units back
    assert [_update(client, "hot") for _ in range(6)] == [True] * 5 + [False]
    limits.clock.now += 60  # a bucket never holds more than one second's worth
    assert sum(_update(client, "hot") for _ in range(15)) == 10
    assert limits.control.counts() == {"dynamodb.partition-writes@Stock": 8}


def test_spread_keys_and_other_tables_are_not_throttled(limits):
    limits.set("dynamodb.partition-writes@Stock=10")
    client = limits.client()
    assert all(_update(client, f"item-{n}") for n in range(100))
    for n in range(30):  # the limit is scoped to Stock: Orders writes on one key go through
        client.put_item(TableName="shop-Orders", Item={"orderId": {"S": "one"}, "n": {"N": str(n)}})
    assert limits.control.counts() == {"dynamodb.partition-writes@Stock": 0}


def test_a_throttled_transaction_is_cancelled_with_throttling_error_on_the_hot_item(limits):
    limits.set("dynamodb.partition-writes=4")
    client = limits.client()

    def transact() -> None:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "shop-Orders", "Item": {"orderId": {"S": f"o{random.random()}"}}}},  # noqa: S311
            {"Update": {"TableName": "shop-Stock", "Key": {"itemId": {"S": "hot"}, "variantId": {"S": "v"}},
                        "UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"N": "1"}}}},
        ])  # fmt: skip

    transact()
    transact()  # a transactional write costs 2 units: the hot key's 4 are gone
    with pytest.raises(client.exceptions.TransactionCanceledException) as raised:
        transact()
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [reason["Code"] for reason in error["CancellationReasons"]] == ["None", "ThrottlingError"]
    assert error["Error"]["Message"].endswith("[None, ThrottlingError]")
    # A throttled transaction takes nothing: the fresh order key of the next one still has its full bucket.
    limits.clock.now += 1
    transact()


class HotStock(Model):
    class Meta:
        table_name = "shop-Stock"
        host = ENDPOINT
        region = "us-east-1"
        max_retry_attempts = 0

    item_id = UnicodeAttribute(hash_key=True, attr_name="itemId")


def test_the_shop_reads_a_throttled_transaction_as_busy_never_as_refused(limits, monkeypatch):
    monkeypatch.setattr(Session, "create_client", Session.create_client)  # install() patches it: undone after
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    control = limits.control
    worker = install(str(control.spec_file), str(control.counts_file), str(control.calls_file),
                     str(control.buckets_file))  # fmt: skip
    assert worker.buckets is not None
    worker.buckets.clock = limits.clock
    control.set("dynamodb.partition-writes@Stock=2")
    worker.refresh()
    connection = Connection(host=ENDPOINT, region="us-east-1")
    connection.client.meta.events.register("before-send.dynamodb.*", dynamodb_answers_ok)

    def transact() -> None:
        with TransactWrite(connection=connection) as writes:
            writes.save(HotStock(item_id="hot"))

    transact()
    with pytest.raises(TransactWriteError) as raised:
        transact()
    assert [reason.code for reason in raised.value.cancellation_reasons or []] == ["ThrottlingError"]
    assert transient(raised.value)
    assert not cancellation(raised.value).failed


def test_reads_are_limited_only_when_asked_and_count_half_a_unit_when_eventually_consistent(limits):
    limits.set("dynamodb.partition-writes=1,dynamodb.partition-reads@Stock=2")
    client = limits.client()
    key = {"itemId": {"S": "hot"}, "variantId": {"S": "default"}}
    outcomes = []
    for _ in range(5):
        try:
            client.get_item(TableName="shop-Stock", Key=key)
            outcomes.append(True)
        except ClientError:
            outcomes.append(False)
    assert outcomes == [True, True, True, True, False]  # 2 units a second, half a unit per read
    with pytest.raises(ClientError):
        client.get_item(TableName="shop-Stock", Key=key, ConsistentRead=True)


def test_every_call_is_counted_per_operation_table_and_step_once_flushed(limits):
    client = limits.client()
    client.put_item(TableName="shop-Orders", Item={"orderId": {"S": "a"}})
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "shop-Orders", "Item": {"orderId": {"S": "b"}}}},
        {"Put": {"TableName": "shop-Stock", "Item": {"itemId": {"S": "c"}}}},
        {"Put": {"TableName": "shop-Stock", "Item": {"itemId": {"S": "d"}}}},
    ])  # fmt: skip
    assert limits.control.calls()["total"] == 0  # an invocation's calls are counted when it ends
    limits.worker.flush_calls("SagaFunction:reserve_inventory")
    limits.worker.flush_calls("SagaFunction:reserve_inventory")  # nothing new: nothing counted twice
    client.get_item(TableName="shop-Orders", Key={"orderId": {"S": "a"}})
    limits.worker.flush_calls("CheckoutFunction")
    assert limits.control.calls() == {"total": 3, "operations": {"PutItem": 1, "TransactWriteItems": 1, "GetItem": 1},
                                      "tables": {"shop-Orders": 3, "shop-Stock": 1},
                                      "steps": {"SagaFunction:reserve_inventory": 2, "CheckoutFunction": 1},
                                      "invocations": {"SagaFunction:reserve_inventory": 1, "CheckoutFunction": 1},
                                      "kinds": {"PutItem shop-Orders": 1, "GetItem shop-Orders": 1,
                                                "TransactWriteItems shop-Orders+shop-Stock": 1}}  # fmt: skip
    limits.control.reset_calls()
    assert limits.control.calls()["total"] == 0


@pytest.mark.parametrize("spec", ["dynamodb.partition-writes=0", "dynamodb.partition-writes=-5",
                                  "dynamodb.partition-reads=x", "dynamodb.partition-writes@Nope=10"])  # fmt: skip
def test_a_bad_partition_limit_is_refused(spec):
    with pytest.raises(FaultSpecError):
        parse(spec, STACK)
