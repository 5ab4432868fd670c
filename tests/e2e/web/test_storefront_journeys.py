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


def _until(read: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := read()):
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.3)
    return value


def test_recommendations_wishlist_and_the_inbox(page: Any, web_api: httpx.Client) -> None:
    word = f"quill{uuid.uuid4().hex[:6]}"
    seller = register(web_api, "seller")
    pen = _listed(web_api, seller, name=f"{word} fountain pen", category=word, price=1500, quantity=5)
    ink = _listed(web_api, seller, name=f"{word} ink bottle", category=word, price=700, quantity=5)
    buyer = register(web_api, "buyer")
    # A fresh listing is in the new arrivals and its category's related items within seconds (docs/api.md).
    related = f"/items/{pen['itemId']}/related"
    _until(lambda: any(i["itemId"] == ink["itemId"] for i in web_api.get(related).json()["items"]))

    # Home page: the strips, the strategy that answered (no job ran yet: trending) and the new arrivals.
    page.goto("/")
    expect(page.get_by_role("heading", name="Recommended for you")).to_be_visible()
    expect(page.get_by_test_id("recommended")).to_contain_text(re.compile(r"Strategy: (trending|personalised)"))
    expect(page.get_by_test_id("new-arrivals").get_by_role("link", name=f"{word} ink bottle")).to_be_visible()
    checked(page, "home-recommendations")

    # Signed in: the item page's related items and the wishlist toggle, then the wishlist page.
    page.goto("/shop/account?next=/")
    _sign_in(page, buyer)
    expect(page.get_by_role("link", name=re.compile(r"^Inbox"))).to_be_visible()  # the header's unread count
    page.goto(f"/shop/item/{pen['itemId']}")
    expect(page.get_by_test_id("related").get_by_role("link", name=f"{word} ink bottle")).to_be_visible()
    save = page.get_by_role("button", name="Save to wishlist")
    expect(save).to_have_attribute("aria-pressed", "false")
    save.click()
    expect(page.get_by_role("button", name="Saved to wishlist")).to_have_attribute("aria-pressed", "true")
    checked(page, "item-related-wishlist")
    page.get_by_role("link", name="Wishlist", exact=True).click()
    expect(page.get_by_role("heading", name="Your wishlist")).to_be_visible()
    expect(page.get_by_role("link", name=f"{word} fountain pen")).to_be_visible()
    checked(page, "wishlist")

    # An order: its confirmation lands in the inbox, counted in the header until read.
    assert web_api.patch("/cart", headers=buyer.auth, json={"itemId": ink["itemId"], "quantity": 1}).status_code == 200
    page.goto("/shop/checkout")
    _checkout(page, "4242 4242 4242 4242")
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "SHIPPED", timeout=30_000)
    _until(lambda: web_api.get("/notifications", headers=buyer.auth).json()["unreadCount"])
    page.goto("/shop/inbox")
    confirmed = page.locator("[data-kind=orderConfirmed]")
    expect(confirmed.get_by_role("heading", name="Your order is confirmed")).to_be_visible()
    expect(page.get_by_label("unread notifications")).not_to_have_text("0")
    checked(page, "inbox")
    before = int(page.get_by_label("unread notifications").inner_text())
    confirmed.get_by_role("button", name=re.compile("^Mark as read")).click()
    expect(page.get_by_label("unread notifications")).to_have_text(str(before - 1))
