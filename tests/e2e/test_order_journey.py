"""A buyer goes from an empty cart to a SHIPPED order with HTTP only, on the session's quick cloud, whose
warehouse ships one second after payment (tests/conftest.py quick_stack); and the README's "Buy something"
curl block does the same, as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid

import httpx
import pytest

from infra.launcher import ROOT
from tests.support.users import new_item, register


def test_empty_cart_to_shipped_order(quick_api: httpx.Client) -> None:
    api = quick_api
    seller = register(api, "seller")
    item = api.post("/items", headers=seller.auth, json=new_item(price=999, quantity=5)).json()["itemId"]
    buyer = register(api, "buyer")
    assert api.get("/cart", headers=buyer.auth).json()["lines"] == []
    assert api.patch("/cart", headers=buyer.auth, json={"itemId": item, "quantity": 2}).status_code == 200
    cart = api.get("/cart", headers=buyer.auth).json()
    assert cart["totals"]["subtotal"] == 1998
    placed = api.post(
        "/checkout", headers={**buyer.auth, "Idempotency-Key": uuid.uuid4().hex},
        json={"cartId": cart["cartId"], "amount": cart["totals"]["total"],
              "paymentInfo": {"paymentType": "CARD", "cardNo": "4242 4242 4242 4242"}},
    )  # fmt: skip
    assert placed.status_code == 202, placed.text
    location = placed.headers["location"]
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while not seen or seen[-1] != "SHIPPED":
        assert time.monotonic() < deadline, seen
        status = api.get(location, headers=buyer.auth).json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        time.sleep(0.1)
    assert "CONFIRMED" in seen or seen == ["SHIPPED"]
    order = api.get(location, headers=buyer.auth).json()
    assert [h["status"] for h in order["history"]] == ["PENDING", "CREATED", "CONFIRMED", "SHIPPED"]
    assert (order["amount"], order["paymentStatus"]) == (cart["totals"]["total"], "CAPTURED")
    assert api.get("/cart", headers=buyer.auth).json()["lines"] == []
    assert api.get(f"/items/{item}").json()["available"] == 3
    assert [o["orderId"] for o in api.get("/orders", headers=buyer.auth).json()["orders"]] == [order["orderId"]]


def _block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.*?)```\s*<!-- /{marker} -->", text, re.S)
    assert match, f"the README lost its {marker} block"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_buy_something_works_as_written(quick_api: httpx.Client) -> None:
    # The first block registers a fixed seller email: give it a fresh one so this cloud accepts it.
    first = _block("readme-journey").replace("ada@example.com", f"ada-{uuid.uuid4().hex[:8]}@example.com")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", first + _block("readme-order-journey")],
        env={**os.environ, "API": str(quick_api.base_url).rstrip("/")}, capture_output=True, text=True, timeout=90,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    statuses = [line for line in result.stdout.splitlines() if line.isupper()]
    assert statuses[-1] == "SHIPPED", result.stdout
    assert "'status': 'SHIPPED'" in result.stdout.splitlines()[-1]
