"""Order history at scale: GET /orders for a buyer with 10 orders and one with 10,000, on a table of
ORDERS_BENCH_TOTAL orders (default 100,000; 1,000,000 allowed), each against a bare boto3 Query of the same
index in the same run; and an archived order's GET /orders/{id} against a live one's.

    python -m bench.orders            (ORDERS_BENCH_TOTAL=1000000 python -m bench.orders for the large table)

- seed (not timed into the results, reported): the Orders table is filled with BatchWriteItem, each row an
  OrderRow exactly as the shop writes it (shop.orders.tables: userStatus for byUserStatus, history, totals,
  the address copy, the archive TTL of a finished order), spread over many buyers with 1 to 19 orders
  each, plus the two buyers measured: SMALL_ORDERS and BIG_ORDERS orders. ARCHIVED_ORDERS of the big
  buyer's, older than a year, are in the archive instead: written by shop.orders.archive.archive() itself
  (the S3 object, then the ARCHIVED index entry), as the archiver writes them.
- the load reaches no stream consumer. It stands for a bulk import (on AWS, a DynamoDB import from S3,
  which writes no stream records): the Orders table's stream is switched off for it (UpdateTable). That
  closes the stream's shard; the outbox, the unwind consumer and the archiver read it to its end and stop,
  as an event source mapping on AWS does when its stream is disabled. Otherwise every row would go to the
  outbox, and each finished order's event to the bus and the notifier, during the measurement. The
  stream stays off while the reads are measured (they write nothing); that nothing reached the bus
  during the load is checked (the cloud's event log) and reported.
- reads (per repeat, the cases interleaved so they share the machine's load): REQUESTS sequential requests
  per case, one keep-alive client each, as a buyer signed in: GET /orders (first page, size PAGE) for the
  small and the big buyer, and the big buyer's first SMALL_ORDERS (like for like with the small buyer's
  page, which holds all its orders); GET /orders?status=FILTERED_STATUS for the big buyer (a minority
  status: a filter after the read would read ~10 rows per row it returns); each against a boto3 Query of
  the index that request reads (same partition, newest first, same limit); and GET /orders/{id} of an
  archived order against a live one of the same buyer. The median repeat (by p50) is reported.
Target (issue 13): the big buyer's page p50 within 1.25 times the small buyer's, like for like. The
gateway's cost over the bare Query, and the archived read's over the live one, are reported as ratios.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.stats import p50_p99, timed_ms
from infra.launcher import ROOT, RunningCloud, launch

TOTAL_VARIABLE = "ORDERS_BENCH_TOTAL"
DEFAULT_TOTAL, LARGEST_TOTAL = 100_000, 1_000_000
SMALL_ORDERS, BIG_ORDERS = 10, 10_000
ARCHIVED_ORDERS = 100  # of the big buyer's orders, in the archive
PAGE = 20
REQUESTS = int(os.environ.get("ORDERS_BENCH_REQUESTS", "300"))  # per case and repeat
WRITERS = 4  # concurrent BatchWriteItem callers while seeding
BATCH = 25  # BatchWriteItem's limit
FILTERED_STATUS = "CANCELLED"
TARGET_SCALING = 1.25  # big buyer's p50 / small buyer's p50
# How a shop's orders end up (weights, percent); what matters is a spread, and a minority status to filter on.
STATUS_MIX = {"SHIPPED": 60, "CONFIRMED": 12, "CANCELLED": 10, "PAYMENT_FAILED": 6, "EXPIRED": 5, "REJECTED": 4,
              "CREATED": 2, "PENDING": 1}  # fmt: skip
# The statuses an order passed through to reach each one (shop.orders.lifecycle.ALLOWED_FROM).
PATHS = {
    "PENDING": ("PENDING",), "CREATED": ("PENDING", "CREATED"), "REJECTED": ("PENDING", "REJECTED"),
    "CONFIRMED": ("PENDING", "CREATED", "CONFIRMED"), "SHIPPED": ("PENDING", "CREATED", "CONFIRMED", "SHIPPED"),
    "PAYMENT_FAILED": ("PENDING", "CREATED", "PAYMENT_FAILED"), "EXPIRED": ("PENDING", "CREATED", "EXPIRED"),
    "CANCELLED": ("PENDING", "CREATED", "CONFIRMED", "CANCELLED"),
}  # fmt: skip
REASONS = {"CANCELLED": "cancelled by the buyer", "PAYMENT_FAILED": "card declined", "EXPIRED": "payment window ended",
           "REJECTED": "out of stock"}  # fmt: skip
PAYMENT_STATUS = {"PENDING": "PENDING", "CREATED": "PENDING", "REJECTED": "PENDING", "CONFIRMED": "CAPTURED",
                  "SHIPPED": "CAPTURED", "PAYMENT_FAILED": "FAILED", "EXPIRED": "PENDING",
                  "CANCELLED": "REFUNDED"}  # fmt: skip
LIVE_DAYS = 330  # live orders are younger than the archive TTL (365 days after they ended) ...
ARCHIVED_DAYS = (400, 700)  # ... the archived ones older


def _total() -> int:
    total = int(os.environ.get(TOTAL_VARIABLE, str(DEFAULT_TOTAL)))
    if not SMALL_ORDERS + BIG_ORDERS <= total <= LARGEST_TOTAL:
        raise SystemExit(f"{TOTAL_VARIABLE} must be between {SMALL_ORDERS + BIG_ORDERS:,} and {LARGEST_TOTAL:,}")
    return total


def _use_cloud_in_process(cloud: RunningCloud) -> None:
    """Point the shop's own code (imported here) at the cloud: the seed writes rows through its models."""
    environment, outputs = cloud.state["environment"], cloud.state["outputs"]
    sys.path.insert(0, str(ROOT / "layers" / "shop" / "python"))
    os.environ.update({**environment, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                       "ORDERS_TABLE": outputs["OrdersTableName"], "PAYMENTS_TABLE": outputs["PaymentsTableName"],
                       "ITEMS_TABLE": outputs["ItemsTableName"], "INVENTORY_TABLE": outputs["InventoryTableName"],
                       "ORDER_ARCHIVE_BUCKET": outputs["OrderArchiveBucketName"], "IDEMPOTENCY_TABLE": "unused",
                       "IDEMPOTENCY_TTL_SECONDS": "3600"})  # fmt: skip


# ---------------------------------------------------------------- the seed


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _order(rng: random.Random, user_id: str, n: int, age_days: float, status: str) -> Any:
    """One order row as the shop writes it (shop.orders.lifecycle: new_order, then each move)."""
    from shop import ids
    from shop.orders.tables import ORDER, HistoryEntry, Line, OrderRow, user_status

    created = datetime.now(UTC) - timedelta(days=age_days)
    order_id = ids.derived_id("ord", f"bench-order-{n}", int(created.timestamp() * 1000))
    steps = PATHS[status]
    times = [created + timedelta(minutes=5 * i) for i in range(len(steps))]
    if status == "SHIPPED":
        times[-1] = created + timedelta(days=2)
    lines = [Line(item_id=ids.derived_id("itm", f"bench-item-{rng.randrange(5000)}", 0),  # type: ignore[no-untyped-call]
                  variant_id="default", quantity=rng.randint(1, 3), unit_price=rng.randrange(500, 20000),
                  name=f"Item {rng.randrange(5000)}")
             for _ in range(rng.randint(1, 4))]  # fmt: skip
    subtotal = sum(int(line.quantity) * int(line.unit_price) for line in lines)
    tax, shipping = subtotal * 8 // 100, 0 if subtotal >= 5000 else 499
    ended = status in REASONS or status == "SHIPPED"
    return OrderRow(
        order_id, ORDER, user_id=user_id, cart_id=f"cart_{user_id}", status=status,
        user_status=user_status(user_id, status), reason=REASONS.get(status),
        payment_status=PAYMENT_STATUS[status], payment_id="pay_" + order_id.split("_", 1)[1],
        payment_txn_id=None if PAYMENT_STATUS[status] == "PENDING" else f"txn_{rng.getrandbits(64):016x}",
        card_token=f"tok_{uuid.UUID(int=rng.getrandbits(128)).hex}", card_last4="4242",
        amount=subtotal + tax + shipping, currency="USD",
        totals={"subtotal": subtotal, "tax": tax, "shipping": shipping, "total": subtotal + tax + shipping},
        address={"name": "Bench Buyer", "line1": "1 Main St", "city": "Springfield", "region": "IL",
                 "postalCode": "62701", "country": "US"},
        created_at=_iso(created), updated_at=_iso(times[-1]), lines=lines,
        history=[HistoryEntry(status=step, at=_iso(at), reason=REASONS.get(step))  # type: ignore[no-untyped-call]
                 for step, at in zip(steps, times, strict=True)],
        # A finished order carries its archive TTL: 365 days after it ended (ArchiveAfterSeconds' default).
        expires_at=int((times[-1] + timedelta(days=365)).timestamp()) if ended else None,
    )  # fmt: skip


def _status(rng: random.Random) -> str:
    return rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()))[0]


def _rows(total: int, small: str, big: str, rng: random.Random) -> Iterator[Any]:
    """Every live order: the two measured buyers', then others' (1 to 19 orders each) up to `total`."""
    n = 0
    for user_id, count in ((small, SMALL_ORDERS), (big, BIG_ORDERS - ARCHIVED_ORDERS)):
        for _ in range(count):
            yield _order(rng, user_id, n, rng.uniform(0, LIVE_DAYS), _status(rng))
            n += 1
    left = total - SMALL_ORDERS - BIG_ORDERS
    while left > 0:
        user_id, count = str(uuid.UUID(int=rng.getrandbits(128))), min(left, rng.randint(1, 19))
        for _ in range(count):
            yield _order(rng, user_id, n, rng.uniform(0, LIVE_DAYS), _status(rng))
            n += 1
        left -= count


def _batches(rows: Iterator[Any]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append({"PutRequest": {"Item": row.serialize()}})
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(client: Any, table: str, batch: list[dict[str, Any]]) -> None:
    requests, delay = batch, 0.05
    while requests:
        unprocessed = client.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
        requests = unprocessed.get(table, [])
        if requests:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _seed(cloud: RunningCloud, total: int, small: str, big: str) -> dict[str, Any]:
    """Load the table (stream off, see the module docstring); the big buyer's oldest orders archived."""
    from shop.dynamodb import stream_image
    from shop.orders import archive

    ddb, table = cloud.client("dynamodb"), cloud.state["outputs"]["OrdersTableName"]
    events_before = _events_routed(cloud)
    stream = ddb.describe_table(TableName=table)["Table"]["StreamSpecification"]
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    rng = random.Random(13)
    began = time.monotonic()
    clients = [cloud.client("dynamodb") for _ in range(WRITERS)]
    with ThreadPoolExecutor(WRITERS) as pool:
        pending = []
        for number, batch in enumerate(_batches(_rows(total - ARCHIVED_ORDERS, small, big, rng))):
            pending.append(pool.submit(_write, clients[number % WRITERS], table, batch))
            if len(pending) >= 4 * WRITERS:  # keep memory flat at a million rows
                pending.pop(0).result()
        for future in pending:
            future.result()
    load_seconds = time.monotonic() - began
    began = time.monotonic()
    archived_ids = []
    for n in range(ARCHIVED_ORDERS):
        row = _order(rng, big, total + n, rng.uniform(*ARCHIVED_DAYS), "SHIPPED")
        archive.archive(stream_image(row.serialize()) or {})
        archived_ids.append(str(row.order_id))
    archive_seconds = time.monotonic() - began
    return {"load": load_seconds, "archive": archive_seconds, "archived_ids": archived_ids,
            "events": _events_routed(cloud) - events_before, "stream": stream}  # fmt: skip


def _events_routed(cloud: RunningCloud) -> int:
    """How many events the cloud's buses have routed so far (its event log's last sequence number)."""
    answer = httpx.get(cloud.state["endpoints"]["api"] + "/_local/events", params={"limit": 1}, timeout=30)
    answer.raise_for_status()
    return int(answer.json()["last"])


# ---------------------------------------------------------------- the reads


def _buyer(api: httpx.Client) -> tuple[dict[str, str], str]:
    """A registered buyer: its Authorization header and user id (the access token's subject)."""
    email = f"bench-orders-{uuid.uuid4().hex[:10]}@example.com"
    api.post("/auth/register", json={"email": email, "password": "Bench-Passw0rd1", "name": "Bench", "role": "buyer"})
    token = api.post("/auth/login", json={"email": email, "password": "Bench-Passw0rd1"}).json()["accessToken"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return {"Authorization": f"Bearer {token}"}, str(claims["sub"])


def _get(base_url: str, path: str, headers: dict[str, str], params: dict[str, Any],
         check: Callable[[Any], bool]) -> Callable[[], object]:  # fmt: skip
    client = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    def call() -> object:
        response = client.get(path, params=params)
        if response.status_code != 200 or not check(response.json()):
            raise RuntimeError(f"GET {path} {params}: {response.status_code} {response.text[:300]}")
        return response

    return call


def _query(cloud: RunningCloud, index: str, key: str, value: str, limit: int = PAGE) -> Callable[[], object]:
    client, table = cloud.client("dynamodb"), cloud.state["outputs"]["OrdersTableName"]

    def call() -> object:
        return client.query(TableName=table, IndexName=index, KeyConditionExpression="#k = :v",
                            ExpressionAttributeNames={"#k": key}, ExpressionAttributeValues={":v": {"S": value}},
                            ScanIndexForward=False, Limit=limit)  # fmt: skip

    return call


@dataclass
class Case:
    name: str
    call: Callable[[], object]
    runs: list[tuple[float, float]]


def _measure(cases: list[Case], repeats: int) -> dict[str, tuple[float, float]]:
    """Each case's (p50, p99) ms of its median repeat; the cases take turns within each repeat."""
    for case in cases:
        timed_ms(case.call, 20)  # warm the connection and the function's worker
    for _ in range(repeats):
        for case in cases:
            case.runs.append(p50_p99(timed_ms(case.call, REQUESTS)))
    return {case.name: sorted(case.runs)[len(case.runs) // 2] for case in cases}


def run(workdir: Path, repeats: int) -> list[str]:
    total = _total()
    began = time.monotonic()
    cloud = launch(workdir, overrides=["ThrottlingRateLimit=1000000", "ThrottlingBurstLimit=1000000",
                                       "EdgeProtection=false"])  # fmt: skip
    try:
        _use_cloud_in_process(cloud)
        api_url = cloud.state["endpoints"]["api"]
        with httpx.Client(base_url=api_url, timeout=60) as api:
            small_auth, small = _buyer(api)
            big_auth, big = _buyer(api)
        seed = _seed(cloud, total, small, big)
        print(f"seeded {total:,} orders in {seed['load']:.0f} s (+ {ARCHIVED_ORDERS} archived in "
              f"{seed['archive']:.1f} s); events routed meanwhile: {seed['events']}", flush=True)  # fmt: skip

        def first_page(body: Any) -> bool:  # a full page, or all of the small buyer's orders
            return len(body["orders"]) in (PAGE, SMALL_ORDERS)

        def only_filtered(body: Any) -> bool:
            return len(body["orders"]) == PAGE and all(order["status"] == FILTERED_STATUS for order in body["orders"])

        live_id = _newest(cloud, big)
        archived_id = seed["archived_ids"][0]
        cases = [
            Case("small buyer: GET /orders", _get(api_url, "/orders", small_auth, {"size": PAGE}, first_page), []),
            Case("small buyer: bare Query byUser", _query(cloud, "byUser", "userId", small), []),
            Case("big buyer: GET /orders", _get(api_url, "/orders", big_auth, {"size": PAGE}, first_page), []),
            Case("big buyer: bare Query byUser", _query(cloud, "byUser", "userId", big), []),
            Case(f"big buyer: GET /orders?size={SMALL_ORDERS}",
                 _get(api_url, "/orders", big_auth, {"size": SMALL_ORDERS}, first_page), []),
            Case(f"big buyer: bare Query byUser, Limit {SMALL_ORDERS}",
                 _query(cloud, "byUser", "userId", big, SMALL_ORDERS), []),
            Case(f"big buyer: GET /orders?status={FILTERED_STATUS}",
                 _get(api_url, "/orders", big_auth, {"size": PAGE, "status": FILTERED_STATUS}, only_filtered), []),
            Case("big buyer: bare Query byUserStatus",
                 _query(cloud, "byUserStatus", "userStatus", f"{big}#{FILTERED_STATUS}"), []),
            Case("GET /orders/{id}, live order",
                 _get(api_url, f"/orders/{live_id}", big_auth, {}, lambda body: not body.get("archived")), []),
            Case("GET /orders/{id}, archived order",
                 _get(api_url, f"/orders/{archived_id}", big_auth, {}, lambda body: body.get("archived") is True), []),
        ]  # fmt: skip
        results = _measure(cases, repeats)
    finally:
        cloud.stop()
    return _render(results, seed, total, repeats, time.monotonic() - began)


def _newest(cloud: RunningCloud, user_id: str) -> str:
    """The buyer's newest order id (a live one: the archived ones are older than a year)."""
    item = _query(cloud, "byUser", "userId", user_id)()
    return str(item["Items"][0]["orderId"]["S"])  # type: ignore[index]


def _render(results: dict[str, tuple[float, float]], seed: dict[str, Any], total: int, repeats: int,
            seconds: float) -> list[str]:  # fmt: skip
    def ratio(name: str, baseline: str) -> str:
        return f"{results[name][0] / results[baseline][0]:.2f} ×"

    rows = [
        ("small buyer: GET /orders", "small buyer: bare Query byUser"),
        ("small buyer: bare Query byUser", None),
        ("big buyer: GET /orders", "big buyer: bare Query byUser"),
        ("big buyer: bare Query byUser", None),
        (f"big buyer: GET /orders?size={SMALL_ORDERS}", f"big buyer: bare Query byUser, Limit {SMALL_ORDERS}"),
        (f"big buyer: bare Query byUser, Limit {SMALL_ORDERS}", None),
        (f"big buyer: GET /orders?status={FILTERED_STATUS}", "big buyer: bare Query byUserStatus"),
        ("big buyer: bare Query byUserStatus", None),
        ("GET /orders/{id}, live order", None),
        ("GET /orders/{id}, archived order", "GET /orders/{id}, live order"),
    ]
    # Like for like: the small buyer's first page holds all its SMALL_ORDERS orders, so the big buyer's
    # page of as many is what must cost the same; its full page of PAGE is shown for the gateway's ratio.
    big_page, big_bare = (
        f"big buyer: GET /orders?size={SMALL_ORDERS}",
        f"big buyer: bare Query byUser, Limit {SMALL_ORDERS}",
    )
    scaling = results[big_page][0] / results["small buyer: GET /orders"][0]
    bare_scaling = results[big_bare][0] / results["small buyer: bare Query byUser"][0]
    command = "python -m bench.orders" if total == DEFAULT_TOTAL else f"{TOTAL_VARIABLE}={total} python -m bench.orders"
    stream = seed["stream"]
    table = [
        f"| {name} | {results[name][0]:.2f} | {results[name][1]:.2f} | "
        f"{ratio(name, baseline) + ' ' + baseline.split(': ')[-1] if baseline else 'baseline'} |"
        for name, baseline in rows
    ]
    filtered = ratio(f"big buyer: GET /orders?status={FILTERED_STATUS}", "big buyer: GET /orders")
    return [
        "### Order history (bench/orders.py)",
        "",
        f"{total:,} orders in the Orders table: a buyer with {SMALL_ORDERS}, a buyer with {BIG_ORDERS:,} "
        f"({ARCHIVED_ORDERS} of them archived to S3 by shop.orders.archive, older than a year), the rest spread "
        f"over buyers with 1 to 19 each. Seeded with BatchWriteItem in {seed['load']:.0f} s (the archived ones "
        f"in {seed['archive']:.1f} s), not timed into the rows below; the table's stream "
        f"({stream.get('StreamViewType')}) was off for the load, as for an import, and the buses routed "
        f"{seed['events']} events meanwhile. Each row: the median of {repeats} runs of {REQUESTS} sequential "
        f"requests by the signed-in buyer (pages of {PAGE} unless said), the cases taking turns. Whole run "
        f"{seconds / 60:.1f} min. `{command}`.",
        "",
        "| case | p50 ms | p99 ms | against |",
        "|---|---|---|---|",
        *table,
        "",
        f"- the {BIG_ORDERS:,}-order buyer's first {SMALL_ORDERS} orders against the {SMALL_ORDERS}-order "
        f"buyer's (the same page: all of them), p50 ≤ "
        f"{TARGET_SCALING} ×: {scaling:.2f} × (bare Query: {bare_scaling:.2f} ×), "
        f"{'met' if scaling <= TARGET_SCALING else 'missed'}",
        f"- a page of one status of {BIG_ORDERS:,} orders costs {filtered} "
        f"the unfiltered page (byUserStatus: no filter after the read)",
        f"- an archived order (one GetItem that misses, the index entry, the S3 object) costs "
        f"{ratio('GET /orders/{id}, archived order', 'GET /orders/{id}, live order')} a live one",
    ]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print("\n".join(run(Path(directory), 3)))
