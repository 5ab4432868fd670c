"""Smoke test of a deployed stack over HTTP: the README's journeys, step by step.

    python scripts/smoke.py --api https://abc123.execute-api.us-east-1.amazonaws.com
    make smoke API=https://...

A seller registers and lists an item, a buyer finds it by search, puts it in the cart, checks out with the
test card that pays at once (last four digits 4242) and follows the order until it is paid (CONFIRMED) or,
with --until SHIPPED, shipped. Every name and key is new per run, so it can run against a live stack any
number of times; it leaves one item and one order behind per run. Where sellers must verify their email
(prod), pass an already verified seller with --seller-email and --seller-password (or SMOKE_SELLER_EMAIL
and SMOKE_SELLER_PASSWORD). Prints one line per step; exits 1 at the first step that fails.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

PAYING_TEST_CARD = "**** **** **** 4242"  # the test provider pays it at once (docs/checkout.md)
PAID = ("CONFIRMED", "SHIPPED")
ENDED_UNPAID = ("FAILED", "EXPIRED", "CANCELLED", "CLOSED")


class SmokeFailure(Exception):
    pass


@dataclass
class Journey:
    api: httpx.Client
    run_id: str
    password: str  # the smoke users', new per run: nobody can sign in to them on a live stack afterwards
    wait_seconds: float
    until: str
    seller_email: str | None = None
    seller_password: str | None = None
    seller_token: str = ""
    buyer_token: str = ""
    item_id: str = ""
    order_id: str = ""

    def expect(self, response: httpx.Response, status: int) -> Any:
        if response.status_code != status:
            raise SmokeFailure(
                f"{response.request.method} {response.request.url.path} answered {response.status_code} "
                f"(expected {status}): {response.text[:500]}"
            )
        return response.json() if response.content else None

    def poll(self, what: str, attempt: Callable[[], Any]) -> Any:
        """attempt() until it returns something other than None, for up to wait_seconds: indexing and the
        saga are asynchronous."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            result = attempt()
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise SmokeFailure(f"{what}: not within {self.wait_seconds:.0f} s")
            time.sleep(0.5)

    def sign_in(self, email: str, password: str) -> str:
        body = self.expect(self.api.post("/auth/login", json={"email": email, "password": password}), 200)
        return str(body["accessToken"])

    def register(self, role: str) -> str:
        email = f"smoke-{role}-{self.run_id}@example.com"
        self.expect(self.api.post("/auth/register", json={
            "email": email, "password": self.password, "name": f"Smoke {role}", "role": role,
        }), 201)  # fmt: skip
        return self.sign_in(email, self.password)

    # -- the steps, in order ------------------------------------------------------------------------
    def seller_signs_in(self) -> str:
        if self.seller_email and self.seller_password:
            self.seller_token = self.sign_in(self.seller_email, self.seller_password)
            return f"signed in as {self.seller_email}"
        self.seller_token = self.register("seller")
        return "registered a new seller"

    def seller_lists_an_item(self) -> str:
        item = {
            "name": f"Smoke Lamp {self.run_id}",
            "description": "A desk lamp listed by the smoke test",
            "price": 1299,
            "quantity": 10,
        }
        headers = {"Authorization": f"Bearer {self.seller_token}", "Idempotency-Key": f"smoke-item-{self.run_id}"}
        self.item_id = str(self.expect(self.api.post("/items", headers=headers, json=item), 201)["itemId"])
        read = self.expect(self.api.get(f"/items/{self.item_id}"), 200)
        if read.get("available") != item["quantity"]:
            raise SmokeFailure(f"the new item shows {read.get('available')} available, not {item['quantity']}")
        return self.item_id

    def search_finds_it(self) -> str:
        def found() -> bool | None:
            page = self.expect(self.api.get("/items", params={"term": self.run_id, "size": 20}), 200)
            return True if any(hit["itemId"] == self.item_id for hit in page["items"]) else None

        self.poll(f"GET /items?term={self.run_id} to find {self.item_id}", found)
        return f"GET /items?term={self.run_id}"

    def buyer_fills_a_cart(self) -> str:
        self.buyer_token = self.register("buyer")
        auth = {"Authorization": f"Bearer {self.buyer_token}"}
        self.expect(self.api.patch("/cart", headers=auth, json={"itemId": self.item_id, "quantity": 2}), 200)
        return "2 x the item"

    def buyer_checks_out(self) -> str:
        auth = {"Authorization": f"Bearer {self.buyer_token}"}
        cart = self.expect(self.api.get("/cart", headers=auth), 200)
        body = {
            "cartId": cart["cartId"],
            "amount": cart["totals"]["total"],
            "paymentInfo": {"paymentType": "CARD", "cardNo": PAYING_TEST_CARD},
        }
        headers = {**auth, "Idempotency-Key": f"smoke-order-{self.run_id}"}
        placed = self.expect(self.api.post("/checkout", headers=headers, json=body), 202)
        self.order_id = str(placed["orderId"])
        return f"{self.order_id}, total {cart['totals']['total']}"

    def order_reaches_its_status(self) -> str:
        auth = {"Authorization": f"Bearer {self.buyer_token}"}
        wanted = PAID if self.until == "CONFIRMED" else ("SHIPPED",)
        seen: list[str] = []

        def status() -> str | None:
            current = str(self.expect(self.api.get(f"/orders/{self.order_id}", headers=auth), 200)["status"])
            if not seen or seen[-1] != current:
                seen.append(current)
            if current in ENDED_UNPAID:
                raise SmokeFailure(f"order {self.order_id} ended {current} (statuses seen: {' -> '.join(seen)})")
            return current if current in wanted else None

        self.poll(f"order {self.order_id} reaching {self.until}", status)
        return " -> ".join(seen)

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("seller signs in", self.seller_signs_in),
            ("seller lists an item", self.seller_lists_an_item),
            ("search finds it", self.search_finds_it),
            ("buyer fills a cart", self.buyer_fills_a_cart),
            ("buyer checks out", self.buyer_checks_out),
            (f"order reaches {self.until}", self.order_reaches_its_status),
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--api", required=True, help="base URL of the stack's API (output ApiUrl or ApiEdgeUrl)")
    parser.add_argument("--until", choices=("CONFIRMED", "SHIPPED"), default="CONFIRMED",
                        help="how far to follow the order (SHIPPED waits FulfilmentDelaySeconds, 60 s by default)")
    parser.add_argument("--wait", type=float, default=120.0,
                        help="seconds to wait for each asynchronous step (search indexing, the order's status)")
    parser.add_argument("--seller-email", default=os.environ.get("SMOKE_SELLER_EMAIL"))
    parser.add_argument("--seller-password", default=os.environ.get("SMOKE_SELLER_PASSWORD"))
    args = parser.parse_args(argv)

    started = time.monotonic()
    with httpx.Client(base_url=args.api.rstrip("/"), timeout=30.0) as api:
        journey = Journey(
            api, uuid.uuid4().hex[:12], f"Sm0ke-{secrets.token_urlsafe(12)}", args.wait, args.until,
            args.seller_email, args.seller_password,
        )
        for name, step in journey.steps():
            step_started = time.monotonic()
            try:
                detail = step()
            except (SmokeFailure, httpx.HTTPError, KeyError, ValueError) as error:
                print(f"FAIL {name}: {type(error).__name__ if not str(error) else error}", flush=True)
                return 1
            print(f"ok   {name} ({time.monotonic() - step_started:.1f} s): {detail}", flush=True)
    print(f"smoke passed against {args.api} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
