"""The checkout under stress and failure, over real HTTP and the real state machine: a flash sale never
oversells, a crashed payment worker still ends the order, replayed or reordered stream records change
nothing, the card number appears in no log and no table, and the saga's events reach the bus."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx

from infra.dynamodb.streams import lambda_record
from tests.conftest import Stack
from tests.support.checkout import TERMINAL, fill_cart, place, place_until_decided, wait_order
from tests.support.events import events_matching, wait_for_event
from tests.support.users import User, error_code, new_item, register

DISTINCTIVE_CARD = "4000 0571 9386 2417"


def new_listing(api: httpx.Client, seller: User, quantity: int) -> str:
    created = api.post("/items", headers=seller.auth, json=new_item(quantity=quantity, price=1500))
    assert created.status_code == 201, created.text
    return str(created.json()["itemId"])


def stock_row(stack: Stack, item_id: str) -> dict[str, int]:
    found = stack.client("dynamodb").get_item(
        TableName=stack.outputs["InventoryTableName"], ConsistentRead=True,
        Key={"itemId": {"S": item_id}, "variantId": {"S": "default"}},
    )["Item"]  # fmt: skip
    return {name: int(found.get(name, {"N": "0"})["N"]) for name in ("available", "reserved", "sold")}


def bus_events(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    return events_matching(stack, lambda e: e.get("detail", {}).get("data", {}).get("orderId") == order_id)


def wait_event(stack: Stack, event_type: str, order_id: str, timeout: float = 60) -> dict[str, Any]:
    return wait_for_event(
        stack,
        lambda e: e.get("detail-type") == event_type and e["detail"]["data"].get("orderId") == order_id,
        timeout=timeout, type=event_type,
    )  # fmt: skip


def test_flash_sale_never_oversells(api: httpx.Client, stack: Stack, seller: User) -> None:
    units, buyers_count = 20, 200
    item = new_listing(api, seller, units)
    with ThreadPoolExecutor(16) as pool:
        buyers = list(pool.map(lambda _: register(api, "buyer"), range(buyers_count)))
        carts = list(pool.map(lambda b: fill_cart(api, b, item), buyers))

    samples: list[dict[str, int]] = []
    done = threading.Event()

    def sample() -> None:  # the invariant must hold at every moment, not only at the end
        while not done.is_set():
            samples.append(stock_row(stack, item))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(32) as pool:
            pairs = zip(buyers, carts, strict=True)
            answers = list(pool.map(lambda bc: place_until_decided(api, *bc), pairs))
        accepted = [(b, a.json()["orderId"]) for b, a in zip(buyers, answers, strict=True) if a.status_code == 202]
        refused = [a for a in answers if a.status_code != 202]
        with ThreadPoolExecutor(16) as pool:
            final = list(pool.map(lambda bo: wait_order(api, bo[0], bo[1], TERMINAL, timeout=60), accepted))
    finally:
        done.set()
        sampler.join()
    statuses = [o["status"] for o in final]
    confirmed = statuses.count("CONFIRMED")
    print(f"flash sale: {confirmed} confirmed, {len(refused)} refused at checkout, "
          f"{len(statuses) - confirmed} rejected by the saga, {len(samples)} stock samples")  # fmt: skip
    assert statuses.count("CONFIRMED") == units
    assert all((a.status_code, error_code(a)) == (422, "OUT_OF_STOCK") for a in refused), {a.text for a in refused}
    rejected = [(o["status"], o["reason"], o["paymentStatus"]) for o in final if o["status"] != "CONFIRMED"]
    assert all(r == ("REJECTED", "OUT_OF_STOCK", "NOT_CHARGED") for r in rejected), rejected
    assert samples and all(s["available"] + s["reserved"] + s["sold"] == units for s in samples)
    assert all(s["available"] >= 0 for s in samples)
    assert stock_row(stack, item) == {"available": 0, "reserved": 0, "sold": units}


def test_a_worker_killed_mid_payment_still_ends_the_order(local_only: Stack, api: httpx.Client, seller: User) -> None:
    item = new_listing(api, seller, 10)
    buyer, accepted = place(api, item, "0666")  # the local provider kills its worker on the first attempt
    order = wait_order(api, buyer, accepted["orderId"], TERMINAL, timeout=60)
    assert order["status"] == "CONFIRMED" and order["paymentStatus"] == "CAPTURED", order
    assert stock_row(local_only, item) == {"available": 8, "reserved": 0, "sold": 2}
    payment = local_only.client("dynamodb").get_item(
        TableName=local_only.outputs["PaymentsTableName"], Key={"paymentId": {"S": order["paymentId"]}},
        ConsistentRead=True,
    )["Item"]  # fmt: skip
    assert int(payment["attempts"]["N"]) >= 2  # the charge was retried after the crash, and made once


def test_the_saga_publishes_its_events(stack: Stack, api: httpx.Client, seller: User) -> None:
    item = new_listing(api, seller, 10)
    buyer, paid = place(api, item, "4242")
    wait_order(api, buyer, paid["orderId"], TERMINAL)
    for event_type in ("OrderCreated", "InventoryReserved", "PaymentCompleted", "OrderConfirmed"):
        event = wait_event(stack, event_type, paid["orderId"])
        envelope = event["detail"]
        assert set(envelope) == {"id", "type", "version", "occurredAt", "source", "data"}
        assert envelope["type"] == event_type
    _, declined = place(api, item, "0002")
    wait_event(stack, "PaymentFailed", declined["orderId"])
    cancelled = api.post(f"/orders/{paid['orderId']}/cancel", headers=buyer.auth)
    assert cancelled.status_code == 200, cancelled.text
    wait_event(stack, "OrderCancelled", paid["orderId"])


def _stream_records(stack: Stack, table: str, key_name: str, key: str) -> list[dict[str, Any]]:
    """The table's stream records for one key, in stream order, shaped as Lambda receives them."""
    env = stack.environment
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL"),
        region_name=env.get("AWS_REGION", "us-east-1"), aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "x"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "x"),
    )  # fmt: skip
    arn = stack.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += [r for r in page["Records"] if r["dynamodb"]["Keys"][key_name]["S"] == key]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return [lambda_record(r, arn, "us-east-1") for r in records]


def test_duplicate_and_out_of_order_stream_delivery_change_nothing(
    local_only: Stack, api: httpx.Client, seller: User
) -> None:
    item = new_listing(api, seller, 10)
    buyer, accepted = place(api, item, "4242")
    order_id = accepted["orderId"]
    wait_order(api, buyer, order_id, {"CONFIRMED"})
    wait_event(local_only, "OrderConfirmed", order_id)
    wait_event(local_only, "PaymentCompleted", order_id)
    records = _stream_records(local_only, local_only.outputs["OrdersTableName"], "orderId", order_id)
    payment_id = api.get(f"/orders/{order_id}", headers=buyer.auth).json()["paymentId"]
    records += _stream_records(local_only, local_only.outputs["PaymentsTableName"], "paymentId", payment_id)
    assert len(records) >= 5
    before_events = sorted(e["detail"]["id"] for e in bus_events(local_only, order_id))
    before_order = api.get(f"/orders/{order_id}", headers=buyer.auth).json()
    before_stock = stock_row(local_only, item)
    # A TTL deletion of this order's hold, arriving after the order was paid: expiry must not touch it.
    late_expiry = {"eventID": uuid.uuid4().hex, "eventName": "REMOVE", "eventSource": "aws:dynamodb",
                   "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
                   "dynamodb": {"Keys": {"orderId": {"S": order_id}, "sk": {"S": "HOLD"}}}}  # fmt: skip

    lam = local_only.client("lambda")
    for batch in (records, records, list(reversed(records))):
        for function in ("OrderEventsFunction", "OrderUnwindFunction"):
            answer = lam.invoke(FunctionName=function, Payload=json.dumps({"Records": [*batch, late_expiry]}))
            result = json.loads(answer["Payload"].read())
            assert "FunctionError" not in answer and result == {"batchItemFailures": []}, result

    time.sleep(0.5)  # the bus and the inspection rule deliver within milliseconds locally; let any stray land
    assert sorted(e["detail"]["id"] for e in bus_events(local_only, order_id)) == before_events
    assert api.get(f"/orders/{order_id}", headers=buyer.auth).json() == before_order
    assert stock_row(local_only, item) == before_stock


def test_the_card_number_is_in_no_log_and_no_table(local_only: Stack, api: httpx.Client, seller: User) -> None:
    item = new_listing(api, seller, 10)
    buyer = register(api, "buyer")
    cart = fill_cart(api, buyer, item)
    answer = api.post(
        "/checkout", headers={**buyer.auth, "Idempotency-Key": uuid.uuid4().hex},
        json={"cartId": cart["cartId"], "amount": cart["totals"]["total"],
              "paymentInfo": {"paymentType": "CARD", "cardNo": DISTINCTIVE_CARD}},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    order = wait_order(api, buyer, answer.json()["orderId"], TERMINAL)
    assert order["cardLast4"] == DISTINCTIVE_CARD[-4:]
    forms = {DISTINCTIVE_CARD, DISTINCTIVE_CARD.replace(" ", ""), DISTINCTIVE_CARD[:-5]}
    assert local_only.log_dir is not None
    logs = sorted(local_only.log_dir.glob("*.log"))
    assert logs
    for path in logs:
        text = path.read_text(errors="replace")
        assert not any(form in text for form in forms), f"card number in {path.name}"
    dynamodb = local_only.client("dynamodb")
    tables = dynamodb.list_tables()["TableNames"]
    assert local_only.outputs["OrdersTableName"] in tables
    for table in tables:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            text = json.dumps(page["Items"])
            assert not any(form in text for form in forms), f"card number in table {table}"
