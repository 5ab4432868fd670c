"""The demo data `make run` loads: a seller, a buyer and the demo catalog, through the public API.

Going through HTTP (register, login, POST /items) means the demo data passes the same validation,
authorisation and transactions as anything a user creates; nothing is written to a table directly.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger("infra.seed")

CATALOG_FILE = Path(__file__).with_name("seed_data") / "catalog.json"
SEED_CONCURRENCY = 4  # the catalog function's workers scale out; more only queues on 2 cores


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    name: str
    role: str


DEMO_SELLER = DemoUser("seller@demo.local", "Seller-Passw0rd", "Demo Seller", "seller")
DEMO_BUYER = DemoUser("buyer@demo.local", "Buyer-Passw0rd", "Demo Buyer", "buyer")


class SeedError(Exception):
    pass


def ensure_user(client: httpx.Client, user: DemoUser) -> str:
    """Register the user unless it exists, and return an access token."""
    response = client.post(
        "/auth/register",
        json={"email": user.email, "password": user.password, "name": user.name, "role": user.role},
    )
    if response.status_code not in (201, 409):
        raise SeedError(f"registering {user.email} failed: {response.status_code} {response.text}")
    login = client.post("/auth/login", json={"email": user.email, "password": user.password})
    if login.status_code != 200:
        raise SeedError(f"login of {user.email} failed: {login.status_code} {login.text}")
    return str(login.json()["accessToken"])


def load_catalog(client: httpx.Client, seller_token: str, items: list[dict[str, Any]]) -> list[str]:
    """Create each item once (the Idempotency-Key makes a re-run a no-op), a few at a time."""

    def create(item: dict[str, Any]) -> str:
        response = client.post(
            "/items",
            json=item,
            headers={"Authorization": f"Bearer {seller_token}", "Idempotency-Key": f"seed-{item['sku']}"},
        )
        if response.status_code != 201:
            raise SeedError(f"item {item.get('sku')} refused: {response.status_code} {response.text}")
        return str(response.json()["itemId"])

    with ThreadPoolExecutor(SEED_CONCURRENCY) as pool:
        return list(pool.map(create, items))


def seed(api_url: str) -> dict[str, Any]:
    items = json.loads(CATALOG_FILE.read_text())
    with httpx.Client(base_url=api_url, timeout=30) as client:
        seller_token = ensure_user(client, DEMO_SELLER)
        ensure_user(client, DEMO_BUYER)
        item_ids = load_catalog(client, seller_token, items)
    log.info("demo catalog loaded: %d items", len(item_ids))
    return {"items": len(item_ids), "seller": DEMO_SELLER, "buyer": DEMO_BUYER}
