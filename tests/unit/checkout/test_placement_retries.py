"""POST /checkout keeps nothing a card number could be recovered from, and its retries can only find the
first attempt's order and saga (issue 11, gaps 1 and 6), against moto's AWS."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from shop import aws, cart, checkout, inventory, orders
from shop.checkout import keys
from shop.errors import EmptyCartError, IdempotencyKeyReusedError, OutOfStockError
from shop.inventory.tables import Stock
from shop.orders.tables import HOLD, HoldRow, OrderRow
from tests.unit.checkout.test_checkout_validation import BUYER, filled_cart, request

FULL_NUMBER = "4242424242424242"


def everything_stored() -> str:
    """Every item of every table, as text."""
    client = boto3.client("dynamodb")
    return json.dumps([client.scan(TableName=name)["Items"] for name in client.list_tables()["TableNames"]])


def validations() -> list[str]:
    """What powertools kept of each checkout request's payload (its hash), oldest first."""
    items = boto3.client("dynamodb").scan(TableName="Idempotency")["Items"]
    return [item["validation"]["S"] for item in sorted(items, key=lambda item: item["expiration"]["N"])]


def test_the_idempotency_record_keeps_only_a_keyed_fingerprint_of_the_card(tables) -> None:
    cart_id, total = filled_cart()
    checkout.place_order(BUYER, request(cart_id, total, card="4242 4242 4242 4242"), idempotency_key="card-1")
    assert FULL_NUMBER not in everything_stored().replace(" ", "")
    # The same request under another checkout key is hashed to something else: what is kept depends on the
    # key, so trying the ~10^5 card numbers that end in 4242 against it is useless without the key.
    boto3.client("secretsmanager").put_secret_value(SecretId=os.environ["CHECKOUT_KEY_SECRET_ARN"],
                                                    SecretString="another key")  # fmt: skip
    parameters.clear_caches()
    checkout.place_order(BUYER, request(cart_id, total, card="4242 4242 4242 4242"), idempotency_key="card-2")
    first, second = validations()
    assert first != second


def test_the_order_id_is_derived_from_the_buyer_and_the_key(tables) -> None:
    cart_id, total = filled_cart()
    accepted = checkout.place_order(BUYER, request(cart_id, total), idempotency_key="derive-1")
    assert accepted.order_id == keys.order_id_for(BUYER.user_id, "derive-1")
    assert keys.order_id_for(BUYER.user_id, "derive-2") != accepted.order_id
    assert keys.order_id_for("another-buyer", "derive-1") != accepted.order_id


def test_a_retry_after_a_failed_start_finds_the_same_order_and_starts_its_one_saga(tables, monkeypatch) -> None:
    cart_id, total = filled_cart()
    machine: Any = aws.stepfunctions()
    real_start = machine.start_execution
    calls: list[str] = []

    def unavailable(**kwargs: Any) -> Any:
        calls.append(kwargs["name"])
        raise machine.exceptions.ServiceQuotaExceededException(
            {"Error": {"Code": "ServiceQuotaExceededException", "Message": "try later"}}, "StartExecution"
        )

    monkeypatch.setattr(machine, "start_execution", unavailable)
    with pytest.raises(machine.exceptions.ServiceQuotaExceededException):
        checkout.place_order(BUYER, request(cart_id, total), idempotency_key="retry-1")
    order_id = calls[0]
    assert orders.load(order_id).status == "PENDING"
    assert HoldRow.get(order_id, HOLD).expires_at  # it expires even if nobody ever retries
    monkeypatch.setattr(machine, "start_execution", real_start)

    again = checkout.place_order(BUYER, request(cart_id, total), idempotency_key="retry-1")
    assert again.order_id == order_id
    executions = machine.list_executions(stateMachineArn=tables_machine_arn())["executions"]
    assert [e["name"] for e in executions] == [order_id]
    assert sum(1 for row in OrderRow.scan() if row.sk == "ORDER") == 1


def test_a_start_that_happened_but_was_not_answered_is_not_started_twice(tables, monkeypatch) -> None:
    """The first StartExecution reached Step Functions but its answer was lost: the retry's start finds the
    execution of that name and carries on."""
    cart_id, total = filled_cart()
    machine: Any = aws.stepfunctions()
    real_start = machine.start_execution

    def started_then_lost(**kwargs: Any) -> Any:
        real_start(**kwargs)
        raise ConnectionError("the answer was lost")

    monkeypatch.setattr(machine, "start_execution", started_then_lost)
    with pytest.raises(ConnectionError):
        checkout.place_order(BUYER, request(cart_id, total), idempotency_key="retry-2")
    monkeypatch.setattr(machine, "start_execution", real_start)
    again = checkout.place_order(BUYER, request(cart_id, total), idempotency_key="retry-2")
    executions = machine.list_executions(stateMachineArn=tables_machine_arn())["executions"]
    assert [e["name"] for e in executions] == [again.order_id]


def tables_machine_arn() -> str:
    return os.environ["CHECKOUT_STATE_MACHINE_ARN"]


def idempotency_records() -> int:
    return len(boto3.client("dynamodb").scan(TableName="Idempotency")["Items"])


def test_a_refusal_at_the_door_writes_no_idempotency_record(tables, monkeypatch) -> None:
    """Most of a sell-out is refused at the door: a refusal takes no record (a write, then its delete)."""
    cart_id, total = filled_cart(quantity=2)
    for row in Stock.scan():  # sold meanwhile: fewer units than the cart holds
        row.update(actions=[Stock.available.set(1)])
    writes: list[str] = []
    for name in ("_put_record", "_delete_record", "_update_record"):
        real = getattr(DynamoDBPersistenceLayer, name)
        monkeypatch.setattr(DynamoDBPersistenceLayer, name,
                            lambda self, *a, _real=real, _name=name, **k: writes.append(_name) or _real(self, *a, **k))
    with pytest.raises(OutOfStockError):
        checkout.place_order(BUYER, request(cart_id, total), idempotency_key="refused-1")
    assert writes == []
    assert idempotency_records() == 0
    assert not any(row.sk == "ORDER" for row in OrderRow.scan())


def test_the_retry_of_an_accepted_order_is_answered_after_its_cart_emptied(tables) -> None:
    """The saga empties the cart and sells the stock: checked again, the retry would be refused
    (EMPTY_CART); its key's record answers it with the first order instead."""
    cart_id, total = filled_cart()
    first = checkout.place_order(BUYER, request(cart_id, total), idempotency_key="accepted-1")
    cart.remove_bought(BUYER.user_id, cart_id, order_id=first.order_id,
                       lines=inventory.stock_lines(orders.load(first.order_id).lines))  # fmt: skip
    assert cart.get_cart(cart.user_cart(BUYER.user_id)).lines == []
    again = checkout.place_order(BUYER, request(cart_id, total), idempotency_key="accepted-1")
    assert again == first
    with pytest.raises(EmptyCartError):  # a new key is a new request, refused at the door
        checkout.place_order(BUYER, request(cart_id, total), idempotency_key="accepted-2")
    with pytest.raises(IdempotencyKeyReusedError):  # the same key with another body, refused as before
        checkout.place_order(BUYER, request(cart_id, total + 1), idempotency_key="accepted-1")
