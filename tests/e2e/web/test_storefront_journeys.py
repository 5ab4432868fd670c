"""The storefront in a real browser (headless Debian Chromium, Playwright) against the session's quick-clock
local cloud, whose gateway serves web/dist: what a shopper does, page by page, each page screenshotted
(.local/artifacts/web/) and scanned with axe-core (no serious or critical violation)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.support.browser import checked
from tests.support.users import PASSWORD, User, new_item, register


def _listed(api: httpx.Client, seller: User, **overrides: Any) -> dict[str, Any]:
    created = api.post("/items", headers=seller.auth, json=new_item(**overrides))
    assert created.status_code == 201, created.text
    item: dict[str, Any] = created.json()
    while not api.get("/items", params={"term": overrides["name"]}).json()["total"]:
        time.sleep(0.1)  # searchable within a second of the write (docs/api.md)
    return item


def _sign_in(page: Any, user: User) -> None:
    form = page.locator("form", has=page.get_by_role("heading", name="Sign in"))
    form.get_by_label("Email").fill(user.email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()


def _checkout(page: Any, card: str) -> None:
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/shop/orders/[^/]+$"))


def test_search_to_shipped_order_with_the_guest_cart_merged_at_sign_in(page: Any, web_api: httpx.Client) -> None:
    word = f"zephyr{uuid.uuid4().hex[:6]}"
    seller = register(web_api, "seller")
    item = _listed(web_api, seller, name=f"{word} desk lamp", brand="Lumen", category="lighting", price=2500,
                   quantity=7, specifications={"Power": "6 W"})  # fmt: skip
    buyer = register(web_api, "buyer")

    # Search, typed: the suggestions come from GET /items/suggest; choosing one searches and puts it in the URL.
    page.goto("/")
    page.get_by_role("combobox", name="Search").fill(word[:8])
    expect(page.get_by_role("option", name=f"{word} desk lamp")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/\?q={word}"))
    expect(page.get_by_role("link", name=f"{word} desk lamp")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^lighting \(1\)"))).to_be_visible()  # a facet
    checked(page, "search")

    # The URL alone renders the same search (a shared link), with a filter from a facet.
    page.goto(f"/?q={word}&category=lighting&sort=price_asc")
    page.get_by_role("link", name=f"{word} desk lamp").click()
    expect(page.get_by_role("heading", name=f"{word} desk lamp")).to_be_visible()
    expect(page.get_by_text("7 available")).to_be_visible()
    expect(page.get_by_text("6 W")).to_be_visible()
    checked(page, "item")

    # A guest's cart: two lamps, before signing in.
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added to your cart.")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.get_by_role("cell", name="$50.00")).to_be_visible()
    checked(page, "guest-cart")

    # Signing in folds the guest cart into the buyer's and goes on to checkout.
    page.get_by_role("link", name="Sign in to check out").click()
    checked(page, "sign-in")
    _sign_in(page, buyer)
    expect(page.get_by_text(f"2 \N{MULTIPLICATION SIGN} {word} desk lamp")).to_be_visible()
    assert web_api.get("/cart", headers=buyer.auth).json()["lines"][0]["quantity"] == 2
    checked(page, "checkout")
    _checkout(page, "4242 4242 4242 4242")

    # The order page follows the order live until the warehouse ships it.
    status = page.get_by_test_id("order-status")
    expect(status).to_have_attribute("data-status", "SHIPPED", timeout=30_000)
    expect(page.get_by_role("list").filter(has_text="CONFIRMED at")).to_be_visible()
    checked(page, "order")
    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_text(re.compile(r"SHIPPED · \$5\d\.\d\d"))).to_be_visible()
    checked(page, "orders")
    assert web_api.get(f"/items/{item['itemId']}").json()["available"] == 5


def test_a_declined_card_ends_the_order_payment_failed(page: Any, web_api: httpx.Client) -> None:
    seller = register(web_api, "seller")
    item = web_api.post("/items", headers=seller.auth, json=new_item(name=f"Declined {uuid.uuid4().hex[:6]}")).json()
    buyer = register(web_api, "buyer")
    assert web_api.patch("/cart", headers=buyer.auth, json={"itemId": item["itemId"], "quantity": 1}).status_code == 200
    page.goto("/shop/account?next=/shop/checkout")
    _sign_in(page, buyer)
    _checkout(page, "4000 0000 0000 0002")
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "PAYMENT_FAILED", timeout=30_000)
    expect(page.get_by_test_id("order-status")).to_contain_text("DECLINED")
    checked(page, "order-declined")


def test_a_card_that_needs_confirmation_ships_once_the_buyer_confirms(page: Any, web_api: httpx.Client) -> None:
    seller = register(web_api, "seller")
    item = web_api.post("/items", headers=seller.auth, json=new_item(name=f"Confirm {uuid.uuid4().hex[:6]}")).json()
    buyer = register(web_api, "buyer")
    assert web_api.patch("/cart", headers=buyer.auth, json={"itemId": item["itemId"], "quantity": 1}).status_code == 200
    page.goto("/shop/account?next=/shop/checkout")
    _sign_in(page, buyer)
    _checkout(page, "4000 0000 0000 3220")
    confirm = page.get_by_role("button", name="Confirm payment")
    expect(confirm).to_be_visible(timeout=30_000)
    checked(page, "order-confirmation")
    confirm.click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "SHIPPED", timeout=30_000)
