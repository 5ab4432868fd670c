"""The DynamoDB fault hook (infra.faults.worker) on real boto3 and pynamodb clients.

The clients are tests/unit/infra/faults/faulted_clients.py's: a call the hook lets through is answered by an
empty 200 standing in for DynamoDB. What the tests check is what botocore's
parsing and retries and pynamodb's exception mapping make of the hook's answers.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.session import Session
from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from infra.faults.spec import Resources
from infra.faults.worker import install
from tests.unit.infra.faults.faulted_clients import ENDPOINT, FaultedWorker

STACK = Resources(tables={"Stock": "shop-Stock", "Orders": "shop-Orders"})


@pytest.fixture
def faults(tmp_path):
    return FaultedWorker(tmp_path, STACK)


def _put(table: str, key: str = "a") -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": key}}}}


def test_a_conflict_cancels_the_transaction_with_one_reason_per_item(faults):
    faults.set("dynamodb.conflict=1")
    client = faults.client(attempts=3)
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[_put("shop-Orders"), _put("shop-Stock"), _put("shop-Stock", "b")])
    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"].startswith("Transaction cancelled, please refer cancellation reasons")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    codes = [reason["Code"] for reason in error["CancellationReasons"]]
    assert len(codes) == 3
    assert codes.count("TransactionConflict") == 1
    assert set(codes) == {"None", "TransactionConflict"}
    assert error["ResponseMetadata"]["RetryAttempts"] == 0  # botocore does not retry a cancelled transaction
    assert isinstance(raised.value, client.exceptions.TransactionCanceledException)
    assert faults.counts() == {"dynamodb.conflict": 1}


def test_a_conflict_scoped_to_a_table_conflicts_on_its_item_and_leaves_other_transactions_alone(faults):
    faults.set("dynamodb.conflict@Stock=1")
    client = faults.client()
    with pytest.raises(client.exceptions.TransactionCanceledException) as raised:
        client.transact_write_items(TransactItems=[_put("shop-Orders"), _put("shop-Stock")])
    reasons = raised.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "TransactionConflict"]
    client.transact_write_items(TransactItems=[_put("shop-Orders")])  # another table: sent, answered
    client.put_item(TableName="shop-Stock", Item={"pk": {"S": "a"}})  # not a transaction: never conflicts
    assert faults.counts() == {"dynamodb.conflict@Stock": 1}


@pytest.fixture
def installed(faults, monkeypatch):
    """install() as a worker runs it: every DynamoDB client created from now on is hooked (pynamodb's too)."""
    monkeypatch.setattr(Session, "create_client", Session.create_client)  # install() patches it: undone after
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    return install(str(faults.control.spec_file), str(faults.control.counts_file))


class Stock(Model):
    class Meta:
        table_name = "shop-Stock"
        host = ENDPOINT
        region = "us-east-1"
        max_retry_attempts = 0

    pk = UnicodeAttribute(hash_key=True)


def _save_two_in_a_transaction(connection: Connection) -> None:
    with TransactWrite(connection=connection) as transaction:
        transaction.save(Stock(pk="a"))
        transaction.save(Stock(pk="b"))


def test_pynamodb_maps_the_conflict_to_transact_write_error_with_its_reasons(faults, installed):
    faults.set("dynamodb.conflict@Stock=1")
    installed.refresh()  # the worker's own view, as before an invocation
    connection = Connection(host=ENDPOINT, region="us-east-1")
    with pytest.raises(TransactWriteError) as raised:
        _save_two_in_a_transaction(connection)
    assert raised.value.cause_response_code == "TransactionCanceledException"
    reasons = raised.value.cancellation_reasons
    assert len(reasons) == 2
    assert sorted(reason.code if reason else "None" for reason in reasons) == ["None", "TransactionConflict"]
    assert faults.counts() == {"dynamodb.conflict@Stock": 1}


def test_pynamodb_maps_throttling_to_put_error(faults, installed):
    faults.set("dynamodb.throttle@PutItem=1")
    installed.refresh()  # the worker's own view, as before an invocation
    with pytest.raises(PutError) as raised:
        Stock(pk="a").save()
    assert raised.value.cause_response_code == "ProvisionedThroughputExceededException"
    assert faults.counts() == {"dynamodb.throttle@PutItem": 1}


def test_throttling_is_retried_by_botocore_then_raised_as_provisioned_throughput_exceeded(faults):
    faults.set("dynamodb.throttle=1")
    client = faults.client(attempts=3)
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException) as raised:
        client.get_item(TableName="shop-Stock", Key={"pk": {"S": "a"}})
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert "Throughput exceeds the current capacity" in response["Error"]["Message"]
    assert faults.counts() == {"dynamodb.throttle": 3}  # each of botocore's attempts was a call


def test_an_internal_server_error_is_a_500_that_botocore_retries(faults):
    faults.set("dynamodb.error=1")
    client = faults.client(attempts=2)
    with pytest.raises(ClientError) as raised:
        client.query(TableName="shop-Stock", KeyConditionExpression="pk = :k", ExpressionAttributeValues={
            ":k": {"S": "a"}})  # fmt: skip
    assert raised.value.response["Error"]["Code"] == "InternalServerError"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert faults.counts() == {"dynamodb.error": 2}


def test_a_retry_gets_through_when_the_next_draw_misses(faults):
    faults.set("dynamodb.throttle=0.5")
    client = faults.client(attempts=10)
    for key in "abcdefgh":
        assert client.get_item(TableName="shop-Stock", Key={"pk": {"S": key}})["ResponseMetadata"]
    assert faults.counts()["dynamodb.throttle"] > 0  # some attempts throttled, every call succeeded in the end


def test_an_operation_scope_leaves_other_operations_alone(faults):
    faults.set("dynamodb.throttle@PutItem=1")
    client = faults.client()
    client.get_item(TableName="shop-Stock", Key={"pk": {"S": "a"}})
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.put_item(TableName="shop-Stock", Item={"pk": {"S": "a"}})
    assert faults.counts() == {"dynamodb.throttle@PutItem": 1}


def test_a_table_scope_matches_batches_by_their_tables(faults):
    faults.set("dynamodb.error@Orders=1")
    client = faults.client()
    client.batch_get_item(RequestItems={"shop-Stock": {"Keys": [{"pk": {"S": "a"}}]}})
    with pytest.raises(ClientError, match="InternalServerError"):
        client.batch_write_item(RequestItems={"shop-Orders": [{"PutRequest": {"Item": {"pk": {"S": "a"}}}}]})


def test_rate_zero_never_injects(faults):
    faults.set("dynamodb.throttle=0,dynamodb.error=0,dynamodb.conflict=0")
    client = faults.client()
    for _ in range(20):
        client.transact_write_items(TransactItems=[_put("shop-Stock")])
    assert set(faults.counts().values()) == {0}


def test_an_outage_fails_every_call_to_connect_until_it_ends(faults):
    client = faults.client()  # made first: the outage's clock starts when it is set
    faults.set("dynamodb.outage=0.3")
    with pytest.raises(EndpointConnectionError, match="Could not connect to the endpoint URL"):
        client.get_item(TableName="shop-Stock", Key={"pk": {"S": "a"}})
    time.sleep(0.35)
    client.get_item(TableName="shop-Stock", Key={"pk": {"S": "a"}})
    assert faults.counts() == {"dynamodb.outage": 1}


def test_botocore_rides_out_a_short_outage_with_its_own_retries(faults):
    client = faults.client(attempts=10)  # legacy back-off: up to 50, 100, 200, 400 ms, ...
    faults.set("dynamodb.outage=0.5")  # after the client (slow to make on a busy machine): the clock starts here
    client.get_item(TableName="shop-Stock", Key={"pk": {"S": "a"}})
    assert faults.counts()["dynamodb.outage"] >= 2


def test_no_faults_no_hook_work(faults):
    client = faults.client()
    client.put_item(TableName="shop-Stock", Item={"pk": {"S": "a"}})
    assert faults.counts() == {}
