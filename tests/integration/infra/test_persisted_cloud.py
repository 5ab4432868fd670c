"""A persisted local cloud (`python -m infra run --persist DIR`) keeps the stack's state across a restart.

One cloud takes a checkout whose payment needs the buyer's confirmation (card 3220) and another that
completes, and is stopped while the first order's execution waits in AwaitConfirmation. A second cloud on
the same folder must then know the users (their passwords, and the tokens issued before, still valid), the
item (table, search index), the finished execution as it was (not run again, no stream record delivered
twice) and let the buyer confirm the waiting order, which finishes.
"""

from __future__ import annotations

import json
import time
import uuid
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


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("persisted") / "data"


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


def test_a_restart_keeps_users_items_search_and_an_order_waiting_for_confirmation(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path
) -> None:
    first = _persisted_cloud(tmp_path_factory.mktemp("first"), data_dir)
    try:
        api = httpx.Client(base_url=first.state["endpoints"]["api"], timeout=30)
        seller, buyer = register(api, "seller"), register(api, "buyer")
        marker = uuid.uuid4().hex[:8]
        created = api.post("/items", headers=seller.auth, json=new_item(name=f"Persisted Lamp {marker}", quantity=10))
        assert created.status_code == 201, created.text
        item_id = created.json()["itemId"]
        search = {"term": marker}
        _wait(lambda: [found["itemId"] for found in api.get("/items", params=search).json()["items"]] == [item_id],
              "the item is searchable")  # fmt: skip

        paid = checkout(api, buyer, fill_cart(api, buyer, item_id), "4242")
        assert paid.status_code == 202, paid.text
        assert wait_order(api, buyer, paid.json()["orderId"], {"SHIPPED"})["status"] == "SHIPPED"
        waiting = checkout(api, buyer, fill_cart(api, buyer, item_id), "3220")
        assert waiting.status_code == 202, waiting.text
        waiting_order = wait_order(api, buyer, waiting.json()["orderId"], {"CREATED"})
        _wait(lambda: _token_parked(first, waiting_order["paymentId"]), "the second checkout waits for confirmation")
        executions = {execution["status"]: execution["executionArn"] for execution in _executions(first)}
        assert set(executions) == {"RUNNING", "SUCCEEDED"}
        finished_history = _history(first, executions["SUCCEEDED"])
        api.close()
    finally:
        first.stop()

    second = _persisted_cloud(tmp_path_factory.mktemp("second"), data_dir)
    try:
        api = httpx.Client(base_url=second.state["endpoints"]["api"], timeout=30)
        # The pool kept its users (the password signs in) and its signing keys (a token from before verifies).
        login = api.post("/auth/login", json={"email": buyer.email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        assert api.get("/orders", headers=buyer.auth).status_code == 200
        assert api.get(f"/items/{item_id}").status_code == 200
        found = api.get("/items", params={"term": marker}).json()["items"]
        assert [item["itemId"] for item in found] == [item_id]  # the index kept it, once

        buyer_now = User(buyer.email, PASSWORD, "buyer", buyer.user_id, login.json()["accessToken"],
                         login.json()["idToken"], login.json()["refreshToken"])  # fmt: skip
        confirmed = confirm_payment(api, buyer_now, waiting_order["paymentId"], timeout=WAIT_SECONDS)
        assert confirmed.status_code == 200, confirmed.text
        assert wait_order(api, buyer_now, waiting.json()["orderId"], {"SHIPPED"})["status"] == "SHIPPED"
        assert api.get(f"/orders/{paid.json()['orderId']}", headers=buyer_now.auth).json()["status"] == "SHIPPED"

        # The finished execution was not run again.
        assert _history(second, executions["SUCCEEDED"]) == finished_history
        # The Items stream went on where it was: a new item's ItemCreated is published, and the first item's
        # is not published again (a stream read from its start again would have published it first, in order).
        another = api.post("/items", headers=seller.auth, json=new_item(name=f"Second Lamp {marker}"))
        assert another.status_code == 201, another.text
        _wait(lambda: _item_created(api, another.json()["itemId"]), "the new item's ItemCreated is published")
        assert not _item_created(api, item_id)
        api.close()
    finally:
        second.stop()
