"""Checkout: a flash sale of BENCH_CHECKOUTS checkouts on 100 units (default 500: measured at
~8 sagas/s on the shared 2-core machine, 2,000 do not fit the 3-minute budget; BENCH_CHECKOUTS=2000 runs
the issue's size), over real HTTP and the
real checkout state machine, in a cloud of its own; and the reservation's cost against a per-line baseline.

    python -m bench.checkout            (BENCH_CHECKOUTS=2000 python -m bench.checkout for the issue's size)

- flash sale: one buyer per checkout, each with one unit of the same item in their cart (set up first, not
  timed); then every buyer POSTs /checkout at once (CONCURRENCY client threads). A checkout's latency runs
  from its POST to a terminal state: the refusal (422 OUT_OF_STOCK at the door) or the order CONFIRMED /
  REJECTED (the time the order's history gives that state; the Orders table is read every POLL_SECONDS to
  learn that it ended). Exactly 100 must be CONFIRMED.
- reservation: shop.inventory.reserve (LINES lines, one TransactWriteItems with the reservation record and
  the order's PENDING check) against the baseline of the same LINES lines as LINES conditional UpdateItem
  calls, both in-process against the cloud's DynamoDB, in the same run.
- the same flash sale again under injected faults (FAULTS: a fifth of DynamoDB transactions in conflict,
  5 % of payment provider calls failing, a saga worker killed once, a fifth of stream batches delivered
  twice; docs/local-cloud.md "Fault injection"), side by side with the clean one, in the same cloud. A
  checkout answered 503 SERVICE_BUSY (or 409 REQUEST_IN_PROGRESS) is sent again with the same
  Idempotency-Key, as a storefront does; its latency runs from the first POST.
- DynamoDB calls per checkout (CALLS_CHECKOUTS checkouts one at a time, POST through CONFIRMED and what the
  order's stream records set off), counted by the local cloud per operation and table (GET
  /_local/dynamodb-calls).
- the flash sale again with the partition-limit emulation on (PARTITION_LIMIT: BENCH_PARTITION_WRITES
  write units/s per partition key of the Inventory table, default 20: AWS's 1,000 scaled to what this
  machine's ~25 checkouts/s write to one stock row, 4 units a checkout), once on the single stock row and
  once with the SKU switched to SHARDS stock shards (POST /items/{itemId}/stock {"shards"}): throttles and
  checkouts/s side by side.
Targets: saga p50 ≤ 150 ms and ≥ 50 checkouts/s. Where one is missed, the per-state durations from the
execution history of the confirmed orders show where the time goes.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stats import p50_p99
from infra.faults import client as faults
from infra.launcher import ROOT, launch

UNITS = 100
CONCURRENCY = 32
POLL_SECONDS = 0.05  # only to learn that an order ended; its history says when
LINES = 5
RESERVATIONS = 100
SEQUENTIAL = 30  # checkouts measured one at a time, before the flash sale
TARGET_P50_MS, TARGET_RATE = 150.0, 50.0
FAULTS = "dynamodb.conflict=0.2,provider.fail=0.05,lambda.kill=SagaFunction:1,stream.duplicate=0.2"
CALLS_CHECKOUTS = 10
SHARDS = 8
PARTITION_LIMIT = f"dynamodb.partition-writes@InventoryTable={os.environ.get('BENCH_PARTITION_WRITES', '20')}"
RETRIED = {(503, "SERVICE_BUSY"), (503, "GATEWAY_503"), (504, "GATEWAY_504"), (409, "REQUEST_IN_PROGRESS"),
           (409, "CART_CONFLICT")}


def register(api: httpx.Client, role: str) -> dict[str, str]:
    email = f"bench-{role}-{uuid.uuid4().hex[:10]}@example.com"
    api.post("/auth/register", json={"email": email, "password": "Bench-Passw0rd1", "name": "Bench", "role": role})
    token = api.post("/auth/login", json={"email": email, "password": "Bench-Passw0rd1"}).json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}


def _listed_item(api: httpx.Client, units: int, shards: int = 1) -> str:
    seller = register(api, "seller")
    item = str(api.post("/items", headers=seller, json={"name": "Flash", "description": "sale", "price": 1000,
                                                        "quantity": units}).json()["itemId"])  # fmt: skip
    if shards > 1:
        switched = api.post(f"/items/{item}/stock", headers=seller, json={"shards": shards})
        assert switched.status_code == 200, switched.text
    return item


def _buyers(api: httpx.Client, item: str, count: int) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """`count` buyers, each with one unit of the item in their cart (set-up, not timed)."""

    def buyer(_: int) -> tuple[dict[str, str], dict[str, Any]]:
        auth = register(api, "buyer")
        return auth, api.patch("/cart", headers=auth, json={"itemId": item, "quantity": 1}).json()

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(buyer, range(count)))


def _code(answer: httpx.Response) -> str:
    """The shop's error code, or the gateway's own answer (a function timed out on a loaded machine: 503/504
    {"message"}) as GATEWAY_<status>, which a storefront retries like SERVICE_BUSY."""
    is_json = answer.headers.get("content-type", "").startswith("application/json")
    error = answer.json().get("error") if is_json else None
    return str(error["code"]) if isinstance(error, dict) else f"GATEWAY_{answer.status_code}"


def _checkout(api: httpx.Client, ddb: Any, orders_table: str,
              pair: tuple[dict[str, str], dict[str, Any]]) -> tuple[str, float, str | None]:
    """POST /checkout and wait for a terminal state; (outcome, milliseconds, order id).

    An order's terminal time is the one its history records (the saga's own clock, milliseconds, same
    machine), so the client can poll slowly: 32 clients polling every 10 ms were a load of their own."""
    auth, cart = pair
    start, started_at = time.perf_counter(), time.time()
    key = uuid.uuid4().hex
    for attempt in range(12):
        answer = api.post(
            "/checkout", headers={**auth, "Idempotency-Key": key},
            json={"cartId": cart["cartId"], "amount": cart["totals"]["total"],
                  "paymentInfo": {"paymentType": "CARD", "cardNo": "4242 4242 4242 4242"}},
        )  # fmt: skip
        if answer.status_code < 400 or (answer.status_code, _code(answer)) not in RETRIED:
            break
        time.sleep(min(2.0, 0.1 * 2**attempt) * random.random())
    if answer.status_code != 202:
        return f"refused {_code(answer)}", (time.perf_counter() - start) * 1000, None
    order_id = answer.json()["orderId"]
    while True:
        row = ddb.get_item(TableName=orders_table, Key={"orderId": {"S": order_id}, "sk": {"S": "ORDER"}},
                           ConsistentRead=True, ProjectionExpression="#s, history",
                           ExpressionAttributeNames={"#s": "status"})["Item"]  # fmt: skip
        status = row["status"]["S"]
        if status not in ("PENDING", "CREATED"):
            entered = next(e["M"]["at"]["S"] for e in reversed(row["history"]["L"]) if e["M"]["status"]["S"] == status)
            ended_at = datetime.fromisoformat(entered.replace("Z", "+00:00")).timestamp()
            return status, max(0.0, ended_at - started_at) * 1000, order_id
        time.sleep(POLL_SECONDS)


def _one_at_a_time(api: httpx.Client, ddb: Any, orders_table: str, count: int) -> list[float]:
    """Checkouts with no contention, one after another: the saga's own latency, POST → CONFIRMED."""
    buyers = _buyers(api, _listed_item(api, count), count)
    return [ms for status, ms, _ in (_checkout(api, ddb, orders_table, pair) for pair in buyers)
            if status == "CONFIRMED"]  # fmt: skip


def _settled_calls(api_url: str) -> dict[str, Any]:
    """The functions' DynamoDB calls once nothing is running any more (the outbox and the stream consumers
    finish after the order is CONFIRMED): read until two reads a second apart agree."""
    previous = faults.dynamodb_calls(api_url)
    while True:
        time.sleep(1.0)
        current = faults.dynamodb_calls(api_url)
        if current == previous:
            return current
        previous = current


def _calls_per_checkout(api: httpx.Client, ddb: Any, orders_table: str, count: int) -> dict[str, Any]:
    """DynamoDB calls per checkout, POST /checkout through CONFIRMED and everything the order's stream records
    set off (outbox, unwind check), counted by the local cloud per operation and table (every attempt of the
    SDK is a call); `count` checkouts one at a time, each of one unit of its own item."""
    api_url = str(api.base_url)
    pairs = [(_buyers(api, _listed_item(api, 1), 1)[0]) for _ in range(count)]
    _settled_calls(api_url)
    faults.reset_dynamodb_calls(api_url)
    statuses = [_checkout(api, ddb, orders_table, pair)[0] for pair in pairs]
    calls = _settled_calls(api_url)
    return {"checkouts": count, "confirmed": statuses.count("CONFIRMED"), "total": calls["total"] / count,
            "operations": {name: n / count for name, n in calls["operations"].items()},
            "tables": {name: n / count for name, n in calls["tables"].items()}}  # fmt: skip


def _flash_sale(api: httpx.Client, ddb: Any, orders_table: str, count: int, *, shards: int = 1,
                faults_during: str = "") -> dict[str, Any]:  # fmt: skip
    """The sale; with `faults_during`, that fault spec is on for the sale only (not the set-up) and the
    faults it injected are returned as "injected"."""
    item = _listed_item(api, UNITS, shards)
    began = time.monotonic()
    buyers = _buyers(api, item, count)
    setup_seconds = time.monotonic() - began
    api_url = str(api.base_url)
    if faults_during:
        faults.set_spec(api_url, faults_during)

    began = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(lambda pair: _checkout(api, ddb, orders_table, pair), buyers))
    wall = time.monotonic() - began
    injected: dict[str, int] = {}
    if faults_during:
        injected = faults.show(api_url)["counts"]
        faults.clear(api_url)
    confirmed_ms = [ms for status, ms, _ in results if status == "CONFIRMED"]
    return {"injected": injected,
        "counts": Counter(status for status, _, _ in results), "all_ms": [ms for _, ms, _ in results],
        "confirmed_ms": confirmed_ms, "wall": wall, "setup": setup_seconds,
        "confirmed_ids": [oid for status, _, oid in results if status == "CONFIRMED" and oid],
        "saga_ids": [oid for _, _, oid in results if oid],
    }  # fmt: skip


def _state_times(sfn: Any, machine_arn: str, order_ids: list[str]) -> dict[str, float]:
    """Mean milliseconds from entering to leaving each state, over the executions' histories."""
    spent: dict[str, list[float]] = {}
    arn_prefix = machine_arn.replace(":stateMachine:", ":execution:")
    for order_id in order_ids:
        events = sfn.get_execution_history(executionArn=f"{arn_prefix}:{order_id}", maxResults=1000)["events"]
        entered: dict[str, Any] = {}
        for event in events:
            if event["type"].endswith("StateEntered"):
                entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
            elif event["type"].endswith("StateExited"):
                name = event["stateExitedEventDetails"]["name"]
                if name in entered:
                    spent.setdefault(name, []).append((event["timestamp"] - entered[name]).total_seconds() * 1000)
        spent.setdefault("(start → first state)", []).append(
            (events[1]["timestamp"] - events[0]["timestamp"]).total_seconds() * 1000 if len(events) > 1 else 0
        )
    return {name: statistics.mean(values) for name, values in spent.items()}


def _reservations(environment: dict[str, str], outputs: dict[str, str]) -> dict[str, float]:
    """shop.inventory.reserve (one transaction) against LINES conditional UpdateItem calls, in-process."""
    sys.path.insert(0, str(ROOT / "layers" / "shop" / "python"))
    os.environ.update({"AWS_ENDPOINT_URL_DYNAMODB": environment["AWS_ENDPOINT_URL_DYNAMODB"],
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1",
                       "AWS_DEFAULT_REGION": "us-east-1", "ITEMS_TABLE": outputs["ItemsTableName"],
                       "INVENTORY_TABLE": outputs["InventoryTableName"], "ORDERS_TABLE": outputs["OrdersTableName"],
                       "PAYMENTS_TABLE": outputs["PaymentsTableName"], "IDEMPOTENCY_TABLE": "unused",
                       "IDEMPOTENCY_TTL_SECONDS": "3600"})  # fmt: skip
    from shop import inventory, orders
    from shop.inventory.tables import Stock
    from shop.orders.tables import ORDER, OrderRow

    item = f"itm_bench{uuid.uuid4().hex[:8]}"
    for n in range(LINES):
        Stock(item, f"v{n}", available=10**9, reserved=0, sold=0, updated_at="now").save()
    lines = [inventory.StockLine(item, f"v{n}", 1) for n in range(LINES)]

    def one_transaction() -> None:
        order_id = f"ord_bench{uuid.uuid4().hex}"
        fields: dict[str, Any] = {"card_token": "tok_bench", "card_last4": "0000"}
        OrderRow(order_id, ORDER, user_id="u", cart_id="c", status="PENDING", payment_status="PENDING",
                 payment_id="p", amount=1, currency="USD", totals={}, lines=[], history=[], created_at="now",
                 updated_at="now", **fields).save()  # fmt: skip
        began = time.perf_counter()
        inventory.reserve(order_id, lines, only_while=orders.while_pending(order_id))
        timings["transaction"].append((time.perf_counter() - began) * 1000)

    def per_line() -> None:
        began = time.perf_counter()
        for line in lines:
            Stock(line.item_id, line.variant_id).update(
                actions=[Stock.available.add(-line.quantity), Stock.reserved.add(line.quantity)],
                condition=Stock.available >= line.quantity,
            )
        timings["per_line"].append((time.perf_counter() - began) * 1000)

    timings: dict[str, list[float]] = {"transaction": [], "per_line": []}
    for _ in range(10):
        one_transaction()
        per_line()
    timings = {"transaction": [], "per_line": []}
    for _ in range(RESERVATIONS):  # interleaved, so both see the same machine load
        one_transaction()
        per_line()
    return {name: statistics.median(values) for name, values in timings.items()}


def run(workdir: Path, repeats: int) -> list[str]:
    count = int(os.environ.get("BENCH_CHECKOUTS", "500"))
    cloud = launch(workdir, overrides=["ThrottlingRateLimit=1000000", "ThrottlingBurstLimit=1000000",
                                       "EdgeProtection=false", "FulfilmentDelaySeconds=3600"])  # fmt: skip
    try:
        environment, outputs = cloud.state["environment"], cloud.state["outputs"]
        ddb, sfn = cloud.client("dynamodb"), cloud.client("stepfunctions")
        limits = httpx.Limits(max_connections=CONCURRENCY + 16, max_keepalive_connections=CONCURRENCY + 16)
        reserve = _reservations(environment, outputs)
        with httpx.Client(base_url=cloud.state["endpoints"]["api"], timeout=60, limits=limits) as api:
            calls = _calls_per_checkout(api, ddb, outputs["OrdersTableName"], CALLS_CHECKOUTS)
            single = _one_at_a_time(api, ddb, outputs["OrdersTableName"], SEQUENTIAL)
            sale = _flash_sale(api, ddb, outputs["OrdersTableName"], count)
            faulted = _flash_sale(api, ddb, outputs["OrdersTableName"], count, faults_during=FAULTS)
            injected = faulted["injected"]
            limited = {shards: _flash_sale(api, ddb, outputs["OrdersTableName"], count, shards=shards,
                                           faults_during=PARTITION_LIMIT) for shards in (1, SHARDS)}  # fmt: skip
        states = _state_times(sfn, outputs["CheckoutStateMachineArn"], sale["confirmed_ids"][:20])
    finally:
        cloud.stop()
    all_p50, all_p99 = p50_p99(sale["all_ms"])
    saga_p50, saga_p99 = p50_p99(sale["confirmed_ms"] or [0.0])
    single_p50, single_p99 = p50_p99(single or [0.0])
    rate = count / sale["wall"]
    counts = ", ".join(f"{status}: {n}" for status, n in sorted(sale["counts"].items()))
    confirmed = sale["counts"].get("CONFIRMED", 0)
    faulted_all_p50, faulted_all_p99 = p50_p99(faulted["all_ms"])
    faulted_saga_p50, faulted_saga_p99 = p50_p99(faulted["confirmed_ms"] or [0.0])
    faulted_rate = count / faulted["wall"]
    faulted_counts = ", ".join(f"{status}: {n}" for status, n in sorted(faulted["counts"].items()))
    faulted_confirmed = faulted["counts"].get("CONFIRMED", 0)
    injected_text = ", ".join(f"{name} {n}" for name, n in sorted(injected.items()))
    verdicts = [
        f"- exactly {UNITS} confirmed: {'yes' if confirmed == UNITS else f'NO ({confirmed})'}",
        f"- saga p50 ≤ {TARGET_P50_MS:.0f} ms (POST → CONFIRMED), one checkout at a time: {single_p50:.0f} ms, "
        f"{'met' if single_p50 <= TARGET_P50_MS else 'missed'}; during the flash sale: {saga_p50:.0f} ms, "
        f"{'met' if saga_p50 <= TARGET_P50_MS else 'missed'}",
        f"- ≥ {TARGET_RATE:.0f} checkouts/s: {rate:.0f}/s, {'met' if rate >= TARGET_RATE else 'missed'}",
    ]
    lines = [
        "### Checkout",
        "",
        f"Flash sale: {count:,} buyers (set up in {sale['setup']:.0f} s, not timed) check out one unit each of an "
        f"item with {UNITS} units, {CONCURRENCY} at a time, over HTTP; each timed from its POST to a terminal "
        f"state (refused at the door, or the time the order's history records it CONFIRMED / REJECTED). "
        f"Wall time {sale['wall']:.1f} s. Outcomes: {counts}. `BENCH_CHECKOUTS={count} python -m bench.checkout`.",
        "",
        "| case | p50 ms | p99 ms | per second |",
        "|---|---|---|---|",
        f"| one checkout at a time, POST → CONFIRMED ({len(single)} orders) | {single_p50:.1f} | {single_p99:.1f} "
        f"| {1000 / single_p50 if single_p50 else 0:,.1f} |",
        f"| flash sale, every checkout (POST → terminal) | {all_p50:.1f} | {all_p99:.1f} | {rate:,.0f} |",
        f"| flash sale, saga: POST → CONFIRMED ({confirmed} orders) | {saga_p50:.1f} | {saga_p99:.1f} | |",
        f"| flash sale under faults, every checkout (POST → terminal) | {faulted_all_p50:.1f} | {faulted_all_p99:.1f} "
        f"| {faulted_rate:,.0f} |",
        f"| flash sale under faults, saga: POST → CONFIRMED ({faulted_confirmed} orders) | {faulted_saga_p50:.1f} "
        f"| {faulted_saga_p99:.1f} | |",
        f"| reserve {LINES} lines: one TransactWriteItems (shop.inventory.reserve) | {reserve['transaction']:.1f} "
        f"| | {1000 / reserve['transaction']:,.0f} |",
        f"| baseline: {LINES} conditional UpdateItem calls | {reserve['per_line']:.1f} | | "
        f"{1000 / reserve['per_line']:,.0f} |",
        "",
        f"Under faults (`{FAULTS}`; injected: {injected_text}): wall time {faulted['wall']:.1f} s, outcomes: "
        f"{faulted_counts}; confirmed p50 {faulted_saga_p50 / saga_p50 if saga_p50 else 0:.1f}× and checkouts/s "
        f"{faulted_rate / rate if rate else 0:.2f}× the clean sale's.",
        "",
        *verdicts,
        f"- the transaction costs {reserve['transaction'] / reserve['per_line']:.2f}× the per-line updates, and "
        "unlike them it never leaves a half-reserved order behind",
    ]
    lines += ["", f"With the partition-limit emulation on (`{PARTITION_LIMIT}`), the same sale ({count:,} buyers, "
              f"{UNITS} units, {CONCURRENCY} at a time) on one stock row and on {SHARDS} stock shards:", "",
              "| stock | throttled calls | confirmed | checkouts/s | confirmed p50 ms | confirmed p99 ms | wall s |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for shards, run_ in limited.items():
        p50, p99 = p50_p99(run_["confirmed_ms"] or [0.0])
        lines.append(f"| {'one row' if shards == 1 else f'{shards} shards'} | {sum(run_['injected'].values())} "
                     f"| {run_['counts'].get('CONFIRMED', 0)} | {count / run_['wall']:,.0f} | {p50:.0f} | {p99:.0f} "
                     f"| {run_['wall']:.1f} |")  # fmt: skip
    lines += ["", f"DynamoDB calls per checkout ({calls['checkouts']} checkouts one at a time, {calls['confirmed']} "
              f"confirmed; POST /checkout through CONFIRMED and the stream consumers it sets off; every SDK attempt "
              f"counted): **{calls['total']:.1f}**", "",
              "| operation | calls | | table | calls |", "|---|---|---|---|---|"]  # fmt: skip
    operations, tables = list(calls["operations"].items()), list(calls["tables"].items())
    for n in range(max(len(operations), len(tables))):
        operation = f"{operations[n][0]} | {operations[n][1]:.1f}" if n < len(operations) else " | "
        table = f"{tables[n][0].rsplit('-', 1)[-1]} | {tables[n][1]:.1f}" if n < len(tables) else " | "
        lines.append(f"| {operation} | | {table} |")
    if states:
        lines += ["", "Where a confirmed order's time goes (mean ms per state, from the execution histories):", "",
                  "| state | ms |", "|---|---|"]  # fmt: skip
        lines += [f"| {name} | {ms:.1f} |" for name, ms in sorted(states.items(), key=lambda kv: -kv[1])]
    return lines


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        began = time.monotonic()
        print("\n".join(run(Path(directory), 1)))
        print(f"\n(took {time.monotonic() - began:.0f} s)")
