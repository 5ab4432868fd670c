"""Checkout under a flash sale (issue 15's bench), over real HTTP and the real checkout state machine, in a
cloud of its own, each figure next to a baseline measured in the same run.

    python -m bench.checkout       (BENCH_CHECKOUTS=2000 buyers, BENCH_SALE_REPEATS / BENCH_REPEATS=3 sales,
                                    BENCH_SIDE_CHECKOUTS=300 buyers for the faulted and partition-limit sales)

- flash sale: BENCH_CHECKOUTS buyers, each with one unit of the same item (UNITS units) in their cart (set up
  first, not timed; a repeated sale moves the same buyers' carts to a new item); then every buyer POSTs
  /checkout, CONCURRENCY at a time. A checkout's latency runs from its POST to a terminal state: the refusal
  (422 OUT_OF_STOCK at the door) or the order CONFIRMED / REJECTED (the time the order's history gives that
  state; one watcher reads every awaited order with one BatchGetItem each POLL_SECONDS to learn that it
  ended: _OrderWatch). A 503 SERVICE_BUSY (or a
  gateway 500/503/504 of a function that timed out on the loaded machine) is sent again with the same
  Idempotency-Key, as a storefront does. Exactly UNITS must be CONFIRMED.
- bare ceiling, after each sale: the DynamoDB calls the functions made during that sale (counted per operation
  and table by the local cloud, GET /_local/dynamodb-calls "kinds") sent straight to the same DynamoDB by
  CONCURRENCY client threads (_Replay), as many "checkouts" of equal share: checkouts/s without the gateway,
  the functions and the state machine. Target: the sale reaches 60 % of it; confirmed p50 ≤ 1 s, p99 ≤ 3 s.
- DynamoDB calls per checkout (CALLS_CHECKOUTS checkouts one at a time, POST through CONFIRMED and what the
  order's stream records set off), per function and saga task, against BEFORE (the same count at the commit
  before issue 15's cuts).
- GET /items/{itemId} against the two reads its function makes (GetItem of the item, Query of its stock rows,
  overlapped) and against one GetItem: target p50 ≤ 1.5 times the bare reads.
- one checkout at a time (the saga's own latency); the reservation (one TransactWriteItems for LINES lines)
  against LINES conditional UpdateItem calls, in-process.
- the sale under the chaos test's faults (FAULTS), and with the partition-limit emulation on (PARTITION_LIMIT:
  BENCH_PARTITION_WRITES write units/s per partition key of the Inventory table, default 20) once on the
  single stock row and once with the SKU switched to SHARDS stock shards: throttles and checkouts/s side by side.
Where a confirmed order's time goes: the per-state durations from the execution histories.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stats import cpu_seconds, cpu_spent, p50_p99, timed_ms
from infra.faults import client as faults
from infra.launcher import ROOT, launch

UNITS = 100
CONCURRENCY = 32
CORES = os.cpu_count() or 1
POLL_SECONDS = 0.05  # only to learn that an order ended; its history says when
LINES = 5
RESERVATIONS = 100
SEQUENTIAL = 30  # checkouts measured one at a time, before the flash sale
TARGET_P50_MS, TARGET_RATE = 150.0, 50.0
FAULTS = "dynamodb.conflict=0.2,provider.fail=0.05,lambda.kill=SagaFunction:1,stream.duplicate=0.2"
CALLS_CHECKOUTS = 10
ITEM_READS = 300  # sequential GET /items/{itemId} (and bare reads) per run
SHARDS = 8
PARTITION_LIMIT = f"dynamodb.partition-writes@InventoryTable={os.environ.get('BENCH_PARTITION_WRITES', '20')}"
# A function that timed out on the loaded machine answers 500 through the gateway: the same key is safe to resend.
RETRIED = {(503, "SERVICE_BUSY"), (503, "GATEWAY_503"), (504, "GATEWAY_504"), (500, "GATEWAY_500"),
           (409, "REQUEST_IN_PROGRESS"), (409, "CART_CONFLICT")}


def register(api: httpx.Client, role: str) -> dict[str, str]:
    """A new account's bearer header; on a loaded machine a function may time out (500), so try again."""
    email = f"bench-{role}-{uuid.uuid4().hex[:10]}@example.com"
    for attempt in range(8):
        api.post("/auth/register", json={"email": email, "password": "Bench-Passw0rd1", "name": "Bench", "role": role})
        login = api.post("/auth/login", json={"email": email, "password": "Bench-Passw0rd1"})
        if login.status_code == 200:
            return {"Authorization": f"Bearer {login.json()['accessToken']}"}
        time.sleep(min(2.0, 0.1 * 2**attempt) * random.random())
    raise RuntimeError(f"could not register and sign in {email}: {login.status_code} {login.text[:200]}")


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


class _OrderWatch:
    """Learns when orders end for every waiting buyer at once: one thread reads all the awaited orders with one
    BatchGetItem every POLL_SECONDS and wakes each buyer whose order is terminal. Each buyer polling its own
    order (32 buyers every 50 ms) made 640 GetItem calls a second: as many as the sale itself makes, on the
    same 2 cores, so the bench slowed what it measured."""

    def __init__(self, ddb: Any, orders_table: str) -> None:
        self._ddb, self._table = ddb, orders_table
        self._awaited: dict[str, tuple[threading.Event, list[tuple[str, float]]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failed: Exception | None = None  # the watch's own error: every waiting buyer raises it
        self._thread = threading.Thread(target=self._watch, name="order-watch", daemon=True)
        self._thread.start()

    def ended(self, order_id: str) -> tuple[str, float]:
        """Blocks until the order is terminal; (status, epoch seconds its history gives that status)."""
        done: tuple[threading.Event, list[tuple[str, float]]] = (threading.Event(), [])
        with self._lock:
            if self._failed is not None:
                raise RuntimeError("the order watch stopped") from self._failed
            self._awaited[order_id] = done
        done[0].wait()
        if not done[1]:  # woken by the watch's failure, not by the order's end
            raise RuntimeError("the order watch stopped") from self._failed
        return done[1][0]

    def __enter__(self) -> _OrderWatch:
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        try:
            self._watch_until_stopped()
        except Exception as error:  # a waiting buyer must fail with it, not wait for ever
            with self._lock:
                self._failed = error
                for event, _ in self._awaited.values():
                    event.set()
            raise

    def _watch_until_stopped(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with self._lock:
                ids = list(self._awaited)
            for chunk in (ids[i:i + 100] for i in range(0, len(ids), 100)):
                for status, row in self._read(chunk):
                    entered = next(e["M"]["at"]["S"] for e in reversed(row["history"]["L"])
                                   if e["M"]["status"]["S"] == status)  # fmt: skip
                    ended_at = datetime.fromisoformat(entered.replace("Z", "+00:00")).timestamp()
                    with self._lock:
                        event, answer = self._awaited.pop(row["orderId"]["S"])
                    answer.append((status, ended_at))
                    event.set()

    def _read(self, order_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
        request: dict[str, Any] = {self._table: {
            "Keys": [{"orderId": {"S": order_id}, "sk": {"S": "ORDER"}} for order_id in order_ids],
            "ConsistentRead": True, "ProjectionExpression": "orderId, #s, history",
            "ExpressionAttributeNames": {"#s": "status"}}}  # fmt: skip
        rows: list[dict[str, Any]] = []
        while request:
            answer = self._ddb.batch_get_item(RequestItems=request)
            rows += answer["Responses"].get(self._table, [])
            request = answer.get("UnprocessedKeys") or {}
        return [(row["status"]["S"], row) for row in rows if row["status"]["S"] not in ("PENDING", "CREATED")]


def _checkout(api: httpx.Client, watch: _OrderWatch,
              pair: tuple[dict[str, str], dict[str, Any]]) -> tuple[str, float, str | None]:
    """POST /checkout and wait for a terminal state; (outcome, milliseconds, order id).

    An order's terminal time is the one its history records (the saga's own clock, milliseconds, same
    machine), so how often the watch reads it changes the bench's load, not the latency it reports."""
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
    status, ended_at = watch.ended(order_id)
    return status, max(0.0, ended_at - started_at) * 1000, order_id


def _one_at_a_time(api: httpx.Client, watch: _OrderWatch, count: int) -> list[float]:
    """Checkouts with no contention, one after another: the saga's own latency, POST → CONFIRMED."""
    buyers = _buyers(api, _listed_item(api, count), count)
    return [ms for status, ms, _ in (_checkout(api, watch, pair) for pair in buyers)
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


def _calls_per_checkout(api: httpx.Client, watch: _OrderWatch, count: int) -> dict[str, Any]:
    """DynamoDB calls per checkout, POST /checkout through CONFIRMED and everything the order's stream records
    set off (outbox, unwind check), counted by the local cloud per operation and table (every attempt of the
    SDK is a call); `count` checkouts one at a time, each of one unit of its own item."""
    api_url = str(api.base_url)
    pairs = [(_buyers(api, _listed_item(api, 1), 1)[0]) for _ in range(count)]
    _settled_calls(api_url)
    faults.reset_dynamodb_calls(api_url)
    statuses = [_checkout(api, watch, pair)[0] for pair in pairs]
    calls = _settled_calls(api_url)
    return {"checkouts": count, "confirmed": statuses.count("CONFIRMED"), "total": calls["total"] / count,
            "operations": {name: n / count for name, n in calls["operations"].items()},
            "tables": {name: n / count for name, n in calls["tables"].items()},
            "steps": {name: n / count for name, n in calls["steps"].items()}}  # fmt: skip


def _moved_to(api: httpx.Client, buyers: list[tuple[dict[str, str], dict[str, Any]]], old: str,
              item: str) -> list[tuple[dict[str, str], dict[str, Any]]]:  # fmt: skip
    """The same buyers, each cart holding one unit of `item` instead of `old` (a set-up cheaper than new
    accounts, for a repeated sale)."""

    def move(pair: tuple[dict[str, str], dict[str, Any]]) -> tuple[dict[str, str], dict[str, Any]]:
        auth, _ = pair
        api.patch("/cart", headers=auth, json={"itemId": old, "quantity": 0})  # gone already if it was bought
        return auth, api.patch("/cart", headers=auth, json={"itemId": item, "quantity": 1}).json()

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(move, buyers))


def _flash_sale(api: httpx.Client, watch: _OrderWatch, count: int, *, cloud_pid: int, shards: int = 1,
                faults_during: str = "", again: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The sale; with `faults_during`, that fault spec is on for the sale only (not the set-up) and the
    faults it injected are returned as "injected". `again`: a previous sale whose buyers buy again (their
    carts moved to the new item). The functions' DynamoDB calls during the sale (until they settle) are
    returned as "calls"; the CPU seconds the cloud's processes (cloud_pid and under it) spent during the
    sale, per kind of process, as "cpu"."""
    item = _listed_item(api, UNITS, shards)
    began = time.monotonic()
    buyers = _buyers(api, item, count) if again is None else _moved_to(api, again["buyers"], again["item"], item)
    setup_seconds = time.monotonic() - began
    api_url = str(api.base_url)
    _settled_calls(api_url)
    faults.reset_dynamodb_calls(api_url)
    if faults_during:
        faults.set_spec(api_url, faults_during)

    began, cpu_before = time.monotonic(), cpu_seconds(cloud_pid)
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(lambda pair: _checkout(api, watch, pair), buyers))
    wall, cpu = time.monotonic() - began, cpu_spent(cpu_before, cpu_seconds(cloud_pid))
    injected: dict[str, int] = {}
    if faults_during:
        injected = faults.show(api_url)["counts"]
        faults.clear(api_url)
    confirmed_ms = [ms for status, ms, _ in results if status == "CONFIRMED"]
    calls = _settled_calls(api_url)
    return {"injected": injected, "calls": calls, "buyers": buyers, "item": item, "cpu": cpu,
        "counts": Counter(status for status, _, _ in results), "all_ms": [ms for _, ms, _ in results],
        "confirmed_ms": confirmed_ms, "wall": wall, "setup": setup_seconds,
        "confirmed_ids": [oid for status, _, oid in results if status == "CONFIRMED" and oid],
        "saga_ids": [oid for _, _, oid in results if oid],
    }  # fmt: skip


# ---------------------------------------------------------------- the bare ceiling: the same calls, no service
class _Replay:
    """Sends DynamoDB calls of the kinds the local cloud counted ("<operation> <table>[+<table>]"), each
    against rows of its own (a fresh key for every write, one seeded row per table for the reads), straight
    from this client: what the sale's DynamoDB work costs without the gateway, the functions and the state
    machine. Writes never collide (the service's do, on the hot stock row: that is part of what it costs)."""

    def __init__(self, ddb: Any) -> None:
        self.ddb = ddb
        self.schemas: dict[str, list[tuple[str, str]]] = {}
        self.seeded: dict[str, dict[str, Any]] = {}

    def key(self, table: str, seeded: bool = False) -> dict[str, Any]:
        if table not in self.schemas:
            described = self.ddb.describe_table(TableName=table)["Table"]
            types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
            self.schemas[table] = [(k["AttributeName"], types[k["AttributeName"]]) for k in described["KeySchema"]]
            self.seeded[table] = self._fresh(table)
            self.ddb.put_item(TableName=table, Item={**self.seeded[table], **_PAYLOAD})
        return self.seeded[table] if seeded else self._fresh(table)

    def _fresh(self, table: str) -> dict[str, Any]:
        token = f"bare_{uuid.uuid4().hex}"
        return {name: {"N": str(random.randrange(10**12))} if kind == "N" else {kind: token}
                for name, kind in self.schemas[table]}  # fmt: skip

    def send(self, kind: str) -> None:
        operation, _, joined = kind.partition(" ")
        tables = [t for t in joined.split("+") if t]
        table = tables[0] if tables else ""
        ddb = self.ddb
        if operation == "GetItem":
            ddb.get_item(TableName=table, Key=self.key(table, seeded=True), ConsistentRead=True)
        elif operation == "PutItem":
            ddb.put_item(TableName=table, Item={**self.key(table), **_PAYLOAD},
                         ConditionExpression="attribute_not_exists(#k)",
                         ExpressionAttributeNames={"#k": self.schemas[table][0][0]})  # fmt: skip
        elif operation == "UpdateItem":
            ddb.update_item(TableName=table, Key=self.key(table), UpdateExpression="ADD #n :one SET #s = :s",
                            ExpressionAttributeNames={"#n": "n", "#s": "status"},
                            ExpressionAttributeValues={":one": {"N": "1"}, ":s": {"S": "CONFIRMED"}})  # fmt: skip
        elif operation == "DeleteItem":
            ddb.delete_item(TableName=table, Key=self.key(table))
        elif operation == "Query":
            seeded = self.key(table, seeded=True)
            name = self.schemas[table][0][0]
            ddb.query(TableName=table, KeyConditionExpression="#k = :v", ExpressionAttributeNames={"#k": name},
                      ExpressionAttributeValues={":v": seeded[name]}, ConsistentRead=True)  # fmt: skip
        elif operation == "BatchGetItem":
            ddb.batch_get_item(RequestItems={t: {"Keys": [self.key(t, seeded=True)], "ConsistentRead": True}
                                             for t in tables})  # fmt: skip
        elif operation == "BatchWriteItem":
            ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {**self.key(t), **_PAYLOAD}}}]
                                               for t in tables})  # fmt: skip
        elif operation == "TransactWriteItems":
            # The checkout's transactions write 2-5 rows over these tables: one update per table, plus one.
            rows = [*tables, tables[0]]
            ddb.transact_write_items(TransactItems=[
                {"Update": {"TableName": t, "Key": self.key(t), "UpdateExpression": "ADD #n :one",
                            "ExpressionAttributeNames": {"#n": "n"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}}
                for t in rows])  # fmt: skip
        elif operation == "Scan":  # a page of a background scan (the payments reconciler's) during the sale
            ddb.scan(TableName=table, Limit=100)
        else:
            raise ValueError(f"no replay for {kind}")


_PAYLOAD = {"status": {"S": "PENDING"}, "payload": {"S": "x" * 400}}  # about the size of an order's row


def _bare_ceiling(ddb: Any, kinds: dict[str, int], checkouts: int) -> dict[str, float]:
    """The sale's DynamoDB calls (kinds: counted during the sale, summed) sent straight to DynamoDB by
    CONCURRENCY client threads, as `checkouts` sequences of equal share; checkouts/s and seconds."""
    replay = _Replay(ddb)
    calls = [kind for kind, n in sorted(kinds.items()) for _ in range(n)]
    for kind in dict.fromkeys(calls):  # describe and seed every table before the clock starts
        for table in kind.partition(" ")[2].split("+"):
            if table:
                replay.key(table, seeded=True)
    random.shuffle(calls)
    shares = [calls[n::checkouts] for n in range(checkouts)]
    began = time.monotonic()
    def one_checkout(share: list[str]) -> None:
        for kind in share:
            replay.send(kind)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one_checkout, shares))
    wall = time.monotonic() - began
    return {"rate": checkouts / wall, "wall": wall, "calls": len(calls)}


def _item_reads(api: httpx.Client, ddb: Any, outputs: dict[str, str], item: str, repeats: int) -> dict[str, float]:
    """GET /items/{itemId} against the two reads its function makes (the item, and a Query of its stock
    rows, overlapped as the function overlaps them), sequential requests, median p50 over `repeats` runs."""
    pool = ThreadPoolExecutor(2)

    def bare() -> None:
        stock = pool.submit(ddb.query, TableName=outputs["InventoryTableName"], KeyConditionExpression="itemId = :i",
                            ExpressionAttributeValues={":i": {"S": item}}, ConsistentRead=True)  # fmt: skip
        ddb.get_item(TableName=outputs["ItemsTableName"], Key={"itemId": {"S": item}}, ConsistentRead=True)
        stock.result()

    def one_item() -> None:
        ddb.get_item(TableName=outputs["ItemsTableName"], Key={"itemId": {"S": item}}, ConsistentRead=True)

    def through_api() -> None:
        answer = api.get(f"/items/{item}")
        assert answer.status_code == 200, answer.text

    cases = {"api": through_api, "bare": bare, "one": one_item}
    for call in cases.values():
        timed_ms(call, 30)  # warm the connection, the function's worker, the thread pool
    p50s: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, call in cases.items():  # taking turns, so all see the same machine load
            p50s[name].append(statistics.median(timed_ms(call, ITEM_READS)))
    pool.shutdown()
    return {name: statistics.median(values) for name, values in p50s.items()}


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


def _progress(began: float, what: str) -> None:
    """A line on stderr per stage: a run takes minutes on a loaded machine."""
    print(f"[bench.checkout {time.monotonic() - began:6.0f} s] {what}", file=sys.stderr, flush=True)


def run(workdir: Path, repeats: int) -> list[str]:
    count = int(os.environ.get("BENCH_CHECKOUTS", "2000"))
    sales = int(os.environ.get("BENCH_SALE_REPEATS", str(repeats)))
    side_count = int(os.environ.get("BENCH_SIDE_CHECKOUTS", "300"))  # the faulted and the partition-limit sales
    load_before = os.getloadavg()[0]
    began_all = time.monotonic()
    cloud = launch(workdir, overrides=["ThrottlingRateLimit=1000000", "ThrottlingBurstLimit=1000000",
                                       "EdgeProtection=false", "FulfilmentDelaySeconds=3600"])  # fmt: skip
    try:
        environment, outputs = cloud.state["environment"], cloud.state["outputs"]
        ddb, sfn = cloud.client("dynamodb"), cloud.client("stepfunctions")
        limits = httpx.Limits(max_connections=CONCURRENCY + 16, max_keepalive_connections=CONCURRENCY + 16)
        _progress(began_all, "cloud ready")
        reserve = _reservations(environment, outputs)
        with (_OrderWatch(ddb, outputs["OrdersTableName"]) as watch,
              httpx.Client(base_url=cloud.state["endpoints"]["api"], timeout=60, limits=limits) as api):
            _progress(began_all, "reservations measured")
            calls = _calls_per_checkout(api, watch, CALLS_CHECKOUTS)
            _progress(began_all, f"calls per checkout: {calls['total']:.1f}")
            reads = _item_reads(api, ddb, outputs, _listed_item(api, 5), repeats)
            _progress(began_all, f"item reads: {reads}")
            single = _one_at_a_time(api, watch, SEQUENTIAL)
            _progress(began_all, "one at a time done")
            sale_runs = _sales(api, watch, ddb, cloud_pid=cloud.process.pid, count=count, sales=sales,
                               began_all=began_all)
            alone = _flash_sale(api, watch, UNITS, cloud_pid=cloud.process.pid)  # after the sales: workers warm
            _progress(began_all, f"the sagas alone: {dict(alone['counts'])}, confirmed p50/p99 "
                      f"{p50_p99(alone['confirmed_ms'] or [0.0])}, cpu {alone['cpu']}")
            faulted = _flash_sale(api, watch, side_count, cloud_pid=cloud.process.pid, faults_during=FAULTS)
            _progress(began_all, f"faulted sale: {dict(faulted['counts'])}")
            limited = {}
            for shards in (1, SHARDS):
                limited[shards] = _flash_sale(api, watch, side_count, cloud_pid=cloud.process.pid, shards=shards,
                                              faults_during=PARTITION_LIMIT)  # fmt: skip
                _progress(began_all, f"partition-limited sale, {shards} row(s): {dict(limited[shards]['counts'])} "
                          f"in {limited[shards]['wall']:.1f} s, throttles {limited[shards]['injected']}, confirmed "
                          f"p50/p99 {p50_p99(limited[shards]['confirmed_ms'] or [0.0])}")
        states = _state_times(sfn, outputs["CheckoutStateMachineArn"], sale_runs[0]["confirmed_ids"][:20])
    finally:
        cloud.stop()
    load_after = os.getloadavg()[0]
    minutes = (time.monotonic() - began_all) / 60
    verdicts = _sale_verdicts(sale_runs, count)  # also gives each sale its rate and percentiles
    single_p50, single_p99 = p50_p99(single or [0.0])
    lines = [
        "### Checkout",
        "",
        f"`BENCH_CHECKOUTS={count} BENCH_SALE_REPEATS={sales} python -m bench.checkout` (bench/checkout.py; "
        f"{minutes:.1f} min in all, load average {load_before:.0f} at the start and {load_after:.0f} at the end "
        "on the shared 2 cores: the absolute times say as much about the machine as about the shop, the ratios "
        "within one run are what to compare).",
        "",
        f"Flash sale: {count:,} buyers (set up first, not timed) check out one unit each of an item with {UNITS} "
        f"units, {CONCURRENCY} at a time, over HTTP; each timed from its POST to a terminal state (refused at "
        "the door, or the time the order's history records it CONFIRMED / REJECTED); a 503 SERVICE_BUSY is sent "
        "again with the same Idempotency-Key. The bare ceiling, measured right after each sale: the DynamoDB "
        "calls the functions made during that sale (counted per operation and table by the local cloud), sent "
        f"straight to DynamoDB Local by {CONCURRENCY} client threads, no gateway, function or state machine.",
        "",
        "| sale | confirmed | outcomes | DynamoDB calls | checkouts/s | bare ceiling checkouts/s | of the ceiling "
        f"| confirmed p50 ms | confirmed p99 ms | wall s | the cloud's CPU, of {CORES} cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, sale in enumerate(sale_runs, 1):
        outcomes = ", ".join(f"{status} {k}" for status, k in sorted(sale["counts"].items()))
        lines.append(f"| {n} | {sale['counts'].get('CONFIRMED', 0)} | {outcomes} | {sale['calls']['total']:,} "
                     f"| {sale['rate']:.1f} | {sale['bare']['rate']:.1f} | {sale['rate'] / sale['bare']['rate']:.0%} "
                     f"| {sale['p50']:,.0f} | {sale['p99']:,.0f} | {sale['wall']:.1f} "
                     f"| {sum(sale['cpu'].values()) / (CORES * sale['wall']):.0%} |")  # fmt: skip
    lines += verdicts
    lines += _alone_lines(alone)
    lines += [
        "| case | p50 ms | p99 ms | per second |",
        "|---|---|---|---|",
        f"| one checkout at a time, POST → CONFIRMED ({len(single)} orders) | {single_p50:.1f} | {single_p99:.1f} "
        f"| {1000 / single_p50 if single_p50 else 0:,.1f} |",
        f"| reserve {LINES} lines: one TransactWriteItems (shop.inventory.reserve) | {reserve['transaction']:.1f} "
        f"| | {1000 / reserve['transaction']:,.0f} |",
        f"| baseline: {LINES} conditional UpdateItem calls | {reserve['per_line']:.1f} | | "
        f"{1000 / reserve['per_line']:,.0f} |",
        "",
    ]
    lines += _side_sales(faulted, limited, side_count)
    lines += _calls_table(calls)
    lines += _item_read_lines(reads, repeats)
    if states:
        lines += ["", "Where a confirmed order's time goes in the first sale (mean ms per state, from the execution "
                  "histories):", "", "| state | ms |", "|---|---|"]  # fmt: skip
        lines += [f"| {name} | {ms:.1f} |" for name, ms in sorted(states.items(), key=lambda kv: -kv[1])]
    return lines


def _sales(api: httpx.Client, watch: _OrderWatch, ddb: Any, *, cloud_pid: int, count: int, sales: int,
           began_all: float) -> list[dict[str, Any]]:  # fmt: skip
    """The flash sales, each with its bare ceiling measured right after it; the same buyers buy again."""
    sale_runs: list[dict[str, Any]] = []
    for _ in range(max(sales, 1)):
        sale = _flash_sale(api, watch, count, cloud_pid=cloud_pid, again=sale_runs[-1] if sale_runs else None)
        _progress(began_all, f"sale: {dict(sale['counts'])} in {sale['wall']:.1f} s, confirmed p50/p99 "
                  f"{p50_p99(sale['confirmed_ms'] or [0.0])}, calls {sale['calls']['total']}, cpu {sale['cpu']}")
        sale["bare"] = _bare_ceiling(ddb, sale["calls"]["kinds"], count)
        _progress(began_all, f"bare ceiling: {sale['bare']}")
        sale_runs.append(sale)
    return sale_runs


def _sale_verdicts(sale_runs: list[dict[str, Any]], count: int) -> list[str]:
    """The flash sales' targets, on the median sale (by its share of the bare ceiling) and median percentiles."""
    for sale in sale_runs:  # each sale's rate and confirmed percentiles
        sale["rate"] = count / sale["wall"]
        sale["p50"], sale["p99"] = p50_p99(sale["confirmed_ms"] or [0.0])
    middle = sorted(sale_runs, key=lambda sale: sale["rate"] / sale["bare"]["rate"])[len(sale_runs) // 2]
    ratio = middle["rate"] / middle["bare"]["rate"]
    p50 = statistics.median(sale["p50"] for sale in sale_runs)
    p99 = statistics.median(sale["p99"] for sale in sale_runs)
    exact = all(sale["counts"].get("CONFIRMED", 0) == UNITS for sale in sale_runs)
    return [
        "",
        f"- exactly {UNITS} confirmed in every sale: {'yes' if exact else 'NO'}",
        f"- checkouts/s ≥ 60 % of the bare ceiling (median sale): {ratio:.0%}, {'met' if ratio >= 0.6 else 'missed'}",
        f"- confirmed p50 ≤ 1 s and p99 ≤ 3 s during the sale (median of the sales): {p50:,.0f} ms and "
        f"{p99:,.0f} ms, {'met' if p50 <= 1000 and p99 <= 3000 else 'missed'}",
        "",
    ]


def _alone_lines(alone: dict[str, Any]) -> list[str]:
    """The sagas with nothing else to do: UNITS buyers on UNITS units, no refusals. Each of the CONCURRENCY
    buyers waits for its order, so (Little's law) an order's latency is about CONCURRENCY / the rate orders end,
    and on a machine the cloud keeps busy that rate is at most CORES / the CPU one order costs."""
    confirmed = alone["counts"].get("CONFIRMED", 0) or 1
    p50, p99 = p50_p99(alone["confirmed_ms"] or [0.0])
    per_order_ms = {kind: 1000 * seconds / confirmed for kind, seconds in alone["cpu"].items()}
    total_ms = sum(per_order_ms.values())
    parts = ", ".join(f"{kind} {ms:,.0f}" for kind, ms in sorted(per_order_ms.items(), key=lambda kv: -kv[1]))
    return [
        f"The sagas alone ({UNITS} buyers on {UNITS} units, {CONCURRENCY} at a time, no refusals): confirmed p50 "
        f"{p50:,.0f} ms, p99 {p99:,.0f} ms, {UNITS / alone['wall']:.1f} checkouts/s; the local cloud's processes "
        f"spent {total_ms:,.0f} CPU-ms per confirmed order ({parts}), "
        f"{sum(alone['cpu'].values()) / (CORES * alone['wall']):.0%} of the machine's {CORES} cores. With "
        f"{CONCURRENCY} buyers each waiting for their order, an order takes about {CONCURRENCY} × "
        f"{total_ms:,.0f} ms / {CORES} cores = {CONCURRENCY * total_ms / CORES:,.0f} ms: a 1 s p50 here needs at "
        f"most {1000 * CORES / CONCURRENCY:,.0f} CPU-ms per order, {total_ms * CONCURRENCY / CORES / 1000:.1f} "
        "times less.",
        "",
    ]


def _side_sales(faulted: dict[str, Any], limited: dict[int, dict[str, Any]], side_count: int) -> list[str]:
    """The sale under the chaos test's faults, and the partition-limit sales on one row and on shards."""
    faulted_p50, _ = p50_p99(faulted["confirmed_ms"] or [0.0])
    injected_text = ", ".join(f"{name} {n}" for name, n in sorted(faulted["injected"].items()))
    faulted_counts = ", ".join(f"{status}: {n}" for status, n in sorted(faulted["counts"].items()))
    lines = [
        f"Under faults (`{FAULTS}`; injected: {injected_text}), {side_count} buyers on {UNITS} units: wall time "
        f"{faulted['wall']:.1f} s, {side_count / faulted['wall']:.1f} checkouts/s, confirmed p50 {faulted_p50:,.0f} "
        f"ms; outcomes: {faulted_counts}.",
        "",
        f"With the partition-limit emulation on (`{PARTITION_LIMIT}`), the same sale ({side_count:,} buyers, "
        f"{UNITS} units, {CONCURRENCY} at a time) on one stock row and on {SHARDS} stock shards:",
        "",
        "| stock | throttled calls | confirmed | outcomes | checkouts/s | confirmed p50 ms | confirmed p99 ms "
        "| wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for shards, run_ in limited.items():
        limited_p50, limited_p99 = p50_p99(run_["confirmed_ms"] or [0.0])
        outcomes = ", ".join(f"{status} {k}" for status, k in sorted(run_["counts"].items()))
        lines.append(f"| {'one row' if shards == 1 else f'{shards} shards'} | {sum(run_['injected'].values())} "
                     f"| {run_['counts'].get('CONFIRMED', 0)} | {outcomes} | {side_count / run_['wall']:.1f} "
                     f"| {limited_p50:,.0f} | {limited_p99:,.0f} | {run_['wall']:.1f} |")  # fmt: skip
    return lines


def _item_read_lines(reads: dict[str, float], repeats: int) -> list[str]:
    api_ratio, one_ratio = reads["api"] / reads["bare"], reads["api"] / reads["one"]
    return [
        "",
        f"GET /items/{{itemId}} against the reads its function makes (sequential requests, median p50 of {repeats} "
        "runs of "
        f"{ITEM_READS}): the item's GetItem and the Query of its stock rows, overlapped as the function overlaps them.",
        "",
        "| case | p50 ms |",
        "|---|---|",
        f"| GET /items/{{itemId}} | {reads['api']:.2f} |",
        f"| bare: GetItem (item) + Query (stock rows), overlapped | {reads['bare']:.2f} |",
        f"| bare: one GetItem | {reads['one']:.2f} |",
        "",
        f"- GET /items/{{itemId}} p50 ≤ 1.5 × the bare reads it makes: {api_ratio:.2f} ×, "
        f"{'met' if api_ratio <= 1.5 else 'missed'} ({one_ratio:.2f} × one bare GetItem)",
    ]


# DynamoDB calls per step of one checkout, measured by _calls_per_checkout at commit 2d428e0 (before issue 15's
# cuts), with the same counter, 5 checkouts one at a time: the "before" column of the table.
BEFORE = {"CheckoutFunction": 8.0, "SagaFunction:reserve_inventory": 2.0, "SagaFunction:create_order": 2.0,
          "SagaFunction:process_payment": 6.0, "SagaFunction:confirm_order": 7.0, "OrderEventsFunction": 10.0,
          "NotifierFunction": 4.0, "RecommendationsFunction": 1.0}  # fmt: skip


def _calls_table(calls: dict[str, Any]) -> list[str]:
    steps: dict[str, float] = calls["steps"]
    names = list(dict.fromkeys([*BEFORE, *steps]))
    lines = ["", f"DynamoDB calls per checkout ({calls['checkouts']} checkouts one at a time, {calls['confirmed']} "
             "confirmed; POST /checkout through CONFIRMED and the stream consumers it sets off; every SDK attempt "
             "counted; per function, and per task for the saga):", "",
             "| step | before | after |", "|---|---|---|"]  # fmt: skip
    for name in names:
        lines.append(f"| {name} | {BEFORE.get(name, 0):.1f} | {steps.get(name, 0):.1f} |")
    lines.append(f"| **total** | **{sum(BEFORE.values()):.1f}** | **{calls['total']:.1f}** |")
    return lines


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        began = time.monotonic()
        print("\n".join(run(Path(directory), int(os.environ.get("BENCH_REPEATS", "3")))))
        print(f"\n(took {time.monotonic() - began:.0f} s)")
