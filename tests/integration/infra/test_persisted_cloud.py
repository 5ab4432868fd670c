"""A persisted local cloud (`python -m infra run --persist DIR`) keeps the stack's state across a restart.

One cloud takes a checkout that completes and one whose payment needs the buyer's confirmation (card 3220),
and is stopped while that order's execution waits in AwaitConfirmation. A second cloud on the same folder
must then know the users (their passwords, and the tokens issued before, still valid), the item (table,
search index) and the orders; the buyer confirms the waiting order, which finishes; the finished execution
is as it was and no stream is read again from its start.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.launcher import RunningCloud, launch
from tests.support.checkout import checkout, confirm_payment, fill_cart, wait_order
from tests.support.users import PASSWORD, User, new_item, register

WAIT_SECONDS = 30.0


def _persisted_cloud(workdir: Path, data: Path) -> RunningCloud:
    # Paid orders ship a second after payment, so an execution finishes within the test.
    return launch(workdir, overrides=["FulfilmentDelaySeconds=1"], extra_args=["--persist", str(data)])


def _executions(cloud: RunningCloud) -> list[dict[str, Any]]:
    client = cloud.client("stepfunctions")
    machine = cloud.state["outputs"]["CheckoutStateMachineArn"]
    return list(client.list_executions(stateMachineArn=machine)["executions"])


def _history(cloud: RunningCloud, execution_arn: str) -> list[dict[str, Any]]:
    return list(cloud.client("stepfunctions").get_execution_history(executionArn=execution_arn,
                                                                     maxResults=1000)["events"])  # fmt: skip


def _token_parked(cloud: RunningCloud, payment_id: str) -> bool:
    """The saga's AwaitConfirmation task ran: its task token is on the payment, the execution waits for it."""
    row = cloud.client("dynamodb").get_item(TableName=cloud.state["outputs"]["PaymentsTableName"],
                                            Key={"paymentId": {"S": payment_id}}).get("Item", {})  # fmt: skip
    return "taskToken" in row


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {WAIT_SECONDS} s"
        time.sleep(0.1)


def _item_created(api: httpx.Client, item_id: str) -> bool:
    """Whether this cloud's buses routed an ItemCreated event for the item since it started (its event log)."""
    answer = api.get("/_local/events", params={"type": "ItemCreated", "limit": 1000})
    assert answer.status_code == 200, answer.text
    return item_id in json.dumps(answer.json()["events"])


@dataclass
class Restarted:
    """The second cloud on the first one's folder, and what the first one did before it was stopped."""

    cloud: RunningCloud
    api: httpx.Client
    seller: User
    buyer: User
    item_id: str
    marker: str
    paid_order_id: str
    waiting_order: dict[str, Any]  # waits in AwaitConfirmation for the buyer
    executions: dict[str, str]  # status -> execution ARN, as the first cloud listed them
    finished_history: list[dict[str, Any]]


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restarted]:
    data = tmp_path_factory.mktemp("persisted") / "data"
    first = _persisted_cloud(tmp_path_factory.mktemp("first"), data)
    try:
        with httpx.Client(base_url=first.state["endpoints"]["api"], timeout=30) as api:
            seller, buyer = register(api, "seller"), register(api, "buyer")
            marker = uuid.uuid4().hex[:8]
            created = api.post("/items", headers=seller.auth,
                               json=new_item(name=f"Persisted Lamp {marker}", quantity=10))  # fmt: skip
            assert created.status_code == 201, created.text
            item_id = created.json()["itemId"]
            search = {"term": marker}
            _wait(lambda: [found["itemId"] for found in api.get("/items", params=search).json()["items"]]
                  == [item_id], "the item is searchable")  # fmt: skip

            paid = checkout(api, buyer, fill_cart(api, buyer, item_id), "4242")
            assert paid.status_code == 202, paid.text
            assert wait_order(api, buyer, paid.json()["orderId"], {"SHIPPED"})["status"] == "SHIPPED"
            waiting = checkout(api, buyer, fill_cart(api, buyer, item_id), "3220")
            assert waiting.status_code == 202, waiting.text
            waiting_order = wait_order(api, buyer, waiting.json()["orderId"], {"CREATED"})
            _wait(lambda: _token_parked(first, waiting_order["paymentId"]), "the checkout waits for confirmation")
            executions = {execution["status"]: execution["executionArn"] for execution in _executions(first)}
            assert set(executions) == {"RUNNING", "SUCCEEDED"}
            finished_history = _history(first, executions["SUCCEEDED"])
    finally:
        first.stop()

    second = _persisted_cloud(tmp_path_factory.mktemp("second"), data)
    try:
        with httpx.Client(base_url=second.state["endpoints"]["api"], timeout=30) as api:
            yield Restarted(second, api, seller, buyer, item_id, marker, paid.json()["orderId"], waiting_order,
                            executions, finished_history)  # fmt: skip
    finally:
        second.stop()


def _signed_in(api: httpx.Client, user: User) -> User:
    login = api.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    return User(user.email, PASSWORD, user.role, user.user_id, tokens["accessToken"], tokens["idToken"],
                tokens["refreshToken"])  # fmt: skip


def test_a_registered_user_signs_in_after_a_restart_and_finds_the_item_and_orders(restarted: Restarted) -> None:
    api = restarted.api
    buyer = _signed_in(api, restarted.buyer)  # the pool kept the user and the password
    assert api.get("/orders", headers=restarted.buyer.auth).status_code == 200  # and the keys of earlier tokens
    assert api.get(f"/items/{restarted.item_id}").status_code == 200
    found = api.get("/items", params={"term": restarted.marker}).json()["items"]
    assert [item["itemId"] for item in found] == [restarted.item_id]  # the search index kept it, once
    paid = api.get(f"/orders/{restarted.paid_order_id}", headers=buyer.auth)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "SHIPPED"
    waiting = api.get(f"/orders/{restarted.waiting_order['orderId']}", headers=buyer.auth)
    assert waiting.status_code == 200, waiting.text


def test_an_order_waiting_at_the_restart_finishes_and_nothing_runs_twice(restarted: Restarted) -> None:
    api = restarted.api
    buyer = _signed_in(api, restarted.buyer)
    # The execution resumed in AwaitConfirmation: the buyer's confirmation moves the order on, to shipping.
    confirmed = confirm_payment(api, buyer, restarted.waiting_order["paymentId"], timeout=WAIT_SECONDS)
    assert confirmed.status_code == 200, confirmed.text
    assert wait_order(api, buyer, restarted.waiting_order["orderId"], {"SHIPPED"})["status"] == "SHIPPED"

    # The finished execution was not run again.
    assert _history(restarted.cloud, restarted.executions["SUCCEEDED"]) == restarted.finished_history
    # The Items stream went on where it was: a new item's ItemCreated is published, and the first item's
    # is not published again (a stream read from its start again would have published it first, in order).
    another = api.post("/items", headers=restarted.seller.auth, json=new_item(name="Another Lamp"))
    assert another.status_code == 201, another.text
    _wait(lambda: _item_created(api, another.json()["itemId"]), "the new item's ItemCreated is published")
    assert not _item_created(api, restarted.item_id)
