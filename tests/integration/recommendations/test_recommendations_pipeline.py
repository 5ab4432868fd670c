"""The recommendations pipeline end to end in the local cloud: behaviour through the API -> the bus -> the lake
writer -> Parquet in S3 -> the job (`make recs`'s code, in the session's SparkSession) -> the pointer moves ->
GET /recommendations/home, GET /me/recommendations and GET /items/{itemId}/related answer from that version,
corrected at serve time (a deactivated item, a buyer's own purchase, a new listing)."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pyarrow.parquet as pq

from jobs import local as recs
from tests.conftest import Stack
from tests.support.checkout import checkout, fill_cart, wait_order
from tests.support.polling import eventually
from tests.support.users import User, new_item, register

ROUNDS = 12


def lake_rows(stack: Stack) -> list[dict[str, Any]]:
    s3, bucket = stack.client("s3"), stack.outputs["BehaviourLakeBucketName"]
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            found += pq.read_table(io.BytesIO(body)).to_pylist()
    return found


def list_item(api: httpx.Client, seller: User, name: str, category: str) -> str:
    created = api.post("/items", headers=seller.auth, json=new_item(name=name, category=category, quantity=50))
    assert created.status_code == 201, created.text
    return str(created.json()["itemId"])


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["itemId"] for item in answer.json()["items"]]


def test_behaviour_reaches_the_lake_the_job_and_the_api(
    api: httpx.Client, stack: Stack, seller: User, spark: Any
) -> None:
    category = f"recs-{uuid.uuid4().hex[:8]}"
    first, second, gone = (list_item(api, seller, name, category) for name in ("Trail Shoe", "Trail Sock", "Old Lamp"))
    visitors = [f"visitor{uuid.uuid4().hex[:10]}" for _ in range(3)]
    # Each visitor views the first and second item together, often: viewed together, and trending this hour
    # above the other tests' items (the suite's busiest ones sell out, and serving leaves those out).
    for visitor in visitors:
        for item in [first, second] * ROUNDS + [gone]:
            viewed = api.get(f"/items/{item}", headers={"X-Visitor-Id": visitor})
            assert viewed.status_code == 200, viewed.text
    # Two more visitors view only the third: without them every visitor would have viewed the first two, which
    # is no more than chance (lift 1), and the job pairs items only above chance.
    others = [f"visitor{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for visitor in others:
        assert api.get(f"/items/{gone}", headers={"X-Visitor-Id": visitor}).status_code == 200

    # The second visitor signs in to an account: what it did as a visitor is the account's (VisitorIdentified).
    account = register(api, "buyer")
    signed_in = api.post("/auth/login", json={"email": account.email, "password": account.password},
                         headers={"X-Visitor-Id": visitors[1]})  # fmt: skip
    assert signed_in.status_code == 200, signed_in.text

    def arrived() -> list[dict[str, Any]] | None:
        rows = lake_rows(stack)
        views = {r["eventId"] for r in rows if r["eventType"] == "ItemViewed" and r["itemId"] in (first, second, gone)}
        linked = any(r["eventType"] == "VisitorIdentified" and r["visitorId"] == f"visitor_{visitors[1]}"
                     and r["userId"] == account.user_id for r in rows)  # fmt: skip
        return rows if linked and len(views) == len(visitors) * (2 * ROUNDS + 1) + len(others) else None

    rows = eventually(arrived, timeout=60, interval=1, message="the views and the sign-in in the lake, as Parquet")
    view = next(r for r in rows if r["eventType"] == "ItemViewed" and r["itemId"] == first)
    assert view["userId"] in {f"visitor_{v}" for v in visitors}
    assert (view["category"], view["schemaVersion"]) == (category, 1)

    assert api.post(f"/items/{gone}/deactivate", headers=seller.auth).status_code == 200
    result = recs.recs(stack.outputs, stack.environment, spark=spark)
    assert result["rows"] > 0

    # Related: the item viewed with it, from the version just loaded; never the deactivated one.
    related = api.get(f"/items/{first}/related")
    assert related.json()["version"] == result["version"]
    assert ids(related)[0] == second and related.json()["items"][0]["reason"] == "viewed_together"
    assert gone not in ids(related)
    # ... with an ETag that a revalidation answers 304 to.
    assert api.get(f"/items/{first}/related", headers={"If-None-Match": related.headers["etag"]}).status_code == 304

    # Home: personalised for a visitor the job knows, trending for anyone else; no inactive item either way.
    home = api.get("/recommendations/home", headers={"X-Visitor-Id": visitors[0]})
    assert home.json()["strategy"] == "personalised" and gone not in ids(home)
    mine = api.get("/me/recommendations", headers={"Authorization": f"Bearer {signed_in.json()['accessToken']}"})
    assert mine.json()["strategy"] == "personalised"  # the visitor's views, now the account's
    anonymous = api.get("/recommendations/home")
    assert anonymous.json()["strategy"] == "trending" and second in ids(anonymous) and gone not in ids(anonymous)

    # A buyer new to the job gets trending, with the second item in it until they buy it (OrderConfirmed).
    buyer = register(api, "buyer")
    assert second in ids(api.get("/me/recommendations", headers=buyer.auth))
    order = checkout(api, buyer, fill_cart(api, buyer, second, 1), "4242")
    assert order.status_code == 202, order.text
    assert wait_order(api, buyer, order.json()["orderId"])["status"] in {"CONFIRMED", "SHIPPED"}
    eventually(lambda: second not in ids(api.get("/me/recommendations", headers=buyer.auth)), timeout=30,
               interval=0.5, message="the buyer's own purchase left out of their recommendations")  # fmt: skip
    assert second in ids(api.get("/recommendations/home"))  # for everyone else it stays
    # ... and the purchase reaches the lake, derived from OrderConfirmed.
    eventually(lambda: any(r["eventType"] == "Purchased" and r["userId"] == buyer.user_id and r["itemId"] == second
                           for r in lake_rows(stack)), timeout=60, interval=1, message="the purchase in the lake")

    # A new listing shows in its category within seconds of ItemCreated, without a new run of the job.
    newcomer = list_item(api, seller, "Trail Gaiter", category)
    eventually(lambda: newcomer in ids(api.get(f"/items/{first}/related")), timeout=30, interval=0.5,
               message="the new listing among the related items' same-category suggestions")  # fmt: skip
