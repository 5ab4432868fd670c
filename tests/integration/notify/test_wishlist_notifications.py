"""Wishlist and notifications over HTTP, against the local cloud: alerts from price drops and restocks, an order
journey's notifications and emails, exactly once under duplicated and reordered delivery, opting out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.support.checkout import checkout, fill_cart, wait_order
from tests.support.faults import clear_faults, fault_counts, set_faults
from tests.support.polling import eventually
from tests.support.users import User, error_code, new_item, register

# Every delivery of the notifier's inputs twice, every batch of its queue in another order.
DUPLICATES = "sqs.duplicate@NotificationsQueue=1,sqs.reorder@NotificationsQueue=1,stream.duplicate@InventoryTable=1"


@pytest.fixture
def faulty(local_only: Stack) -> Iterator[Stack]:
    try:
        yield local_only
    finally:
        clear_faults(local_only)


def listing(api: httpx.Client, seller: User, *, price: int = 2500, quantity: int = 5) -> dict[str, Any]:
    created = api.post("/items", headers=seller.auth, json=new_item(price=price, quantity=quantity, name="Desk <Lamp>"))
    assert created.status_code == 201, created.text
    return dict(created.json())


def notifications(api: httpx.Client, user: User, **query: Any) -> dict[str, Any]:
    answer = api.get("/notifications", headers=user.auth, params=query)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def kinds_of(api: httpx.Client, user: User) -> list[str]:
    return [n["kind"] for n in notifications(api, user, size=100)["notifications"]]


def wait_kinds(api: httpx.Client, user: User, wanted: set[str], timeout: float = 90) -> list[str]:
    return eventually(lambda: (k := kinds_of(api, user)) and wanted <= set(k) and k, timeout=timeout,
                      message=f"notifications {wanted}")  # fmt: skip


def mail_to(api: httpx.Client, address: str) -> list[dict[str, Any]]:
    """The notification emails in the local mailbox (moto's SES sent messages), through GET /_local/mail;
    registration's verification code mail is left out."""
    answer = api.get("/_local/mail", params={"to": address})
    assert answer.status_code == 200, answer.text
    return [m for m in answer.json()["messages"] if "verification code" not in str(m["subject"])]


def verified(api: httpx.Client, user: User) -> User:
    """The user, once they proved their address with the code registration mailed them: the notifier emails
    verified addresses only."""
    mail = api.get("/_local/mail", params={"to": user.email}).json()["messages"]
    [code] = [re.search(r"\b(\d{6})\b", str(m["body"])).group(1)  # type: ignore[union-attr]
              for m in mail if "verification code" in str(m["subject"])]  # fmt: skip
    answer = api.post("/auth/verify-email", json={"code": code}, headers=user.auth)
    assert answer.status_code == 200, answer.text
    return user


def test_wishlist_is_idempotent_bounded_to_known_items_and_shows_price_and_stock(
    api: httpx.Client, seller: User
) -> None:
    buyer = register(api, "buyer")
    item = listing(api, seller, price=1999, quantity=3)
    for _ in range(2):
        added = api.put(f"/wishlist/items/{item['itemId']}", headers=buyer.auth)
        assert added.status_code == 200, added.text
    assert added.json() == {"itemId": item["itemId"], "onWishlist": True, "changed": False}
    unknown = api.put("/wishlist/items/itm_01JAAAAAAAAAAAAAAAAAAAAAAA", headers=buyer.auth)
    assert unknown.status_code == 404 and error_code(unknown) == "ITEM_NOT_FOUND"
    wishlist = api.get("/wishlist", headers=buyer.auth).json()
    assert wishlist["count"] == 1 and wishlist["limit"] == 100
    [entry] = wishlist["items"]
    assert (entry["price"], entry["available"], entry["inStock"], entry["name"]) == (1999, 3, True, "Desk <Lamp>")
    for expected_change in (True, False):
        removed = api.delete(f"/wishlist/items/{item['itemId']}", headers=buyer.auth)
        assert removed.status_code == 200 and removed.json()["changed"] is expected_change
    assert api.get("/wishlist", headers=buyer.auth).json()["items"] == []


def test_price_drop_and_restock_notify_watchers_once_under_duplicated_reordered_delivery(
    faulty: Stack, api: httpx.Client, seller: User
) -> None:
    watcher, bystander = verified(api, register(api, "buyer")), register(api, "buyer")
    item = listing(api, seller, price=3000, quantity=1)
    assert api.put(f"/wishlist/items/{item['itemId']}", headers=watcher.auth).status_code == 200
    set_faults(faulty, DUPLICATES)
    # Sell the only unit (out of stock), then the seller lowers the price and restocks.
    cart = fill_cart(api, bystander, item["itemId"], 1)
    order = checkout(api, bystander, cart, "4242").json()
    wait_order(api, bystander, order["orderId"], {"CONFIRMED"})
    cheaper = api.patch(f"/items/{item['itemId']}", headers=seller.auth, json={"version": 1, "price": 2400})
    assert cheaper.status_code == 200, cheaper.text
    restocked = api.post(f"/items/{item['itemId']}/stock", headers=seller.auth, json={"quantity": 4})
    assert restocked.status_code == 200, restocked.text
    kinds = wait_kinds(api, watcher, {"priceDrop", "backInStock"})
    # The bystander's own order notified them; the watcher heard of nothing but the two alerts.
    wait_kinds(api, bystander, {"orderConfirmed"})
    counts = fault_counts(faulty)
    assert (
        counts.get("sqs.duplicate@NotificationsQueue", 0) > 0 and counts.get("stream.duplicate@InventoryTable", 0) > 0
    )
    clear_faults(faulty)
    page = notifications(api, watcher)
    assert sorted(kinds) == ["backInStock", "priceDrop"] and page["unreadCount"] == 2
    drop = next(n for n in page["notifications"] if n["kind"] == "priceDrop")
    assert "24.00 USD" in drop["body"] and "30.00 USD" in drop["body"]
    # A price rise is no news.
    assert (
        api.patch(f"/items/{item['itemId']}", headers=seller.auth, json={"version": 2, "price": 2600}).status_code
        == 200
    )
    assert kinds_of(api, bystander).count("orderConfirmed") == 1
    emails = eventually(lambda: (m := mail_to(api, watcher.email)) and len(m) >= 2 and m, timeout=20)
    assert sorted(m["subject"] for m in emails) == [
        "An item on your wishlist is back in stock", "An item on your wishlist is cheaper"]  # fmt: skip
    # moto's mailbox keeps the HTML part: the seller's item name is escaped in it
    assert "Desk &lt;Lamp&gt;" in str(emails) and "<Lamp>" not in str(emails)
    assert kinds_of(api, watcher).count("priceDrop") == 1


def test_an_order_journey_notifies_in_app_and_by_email_and_reads_are_counted(
    faulty: Stack, api: httpx.Client, seller: User
) -> None:
    buyer = verified(api, register(api, "buyer"))
    item = listing(api, seller, price=1250, quantity=10)
    set_faults(faulty, DUPLICATES)
    cart = fill_cart(api, buyer, item["itemId"], 2)
    order = checkout(api, buyer, cart, "4242").json()
    wait_order(api, buyer, order["orderId"], {"CONFIRMED"})
    cancelled = api.post(f"/orders/{order['orderId']}/cancel", headers=buyer.auth)
    assert cancelled.status_code == 200, cancelled.text
    wait_kinds(api, buyer, {"orderConfirmed", "orderCancelled", "orderRefunded"})
    emails = eventually(lambda: (m := mail_to(api, buyer.email)) and len(m) >= 3 and m, timeout=20)
    clear_faults(faulty)
    page = notifications(api, buyer)
    assert sorted(n["kind"] for n in page["notifications"]) == ["orderCancelled", "orderConfirmed", "orderRefunded"]
    assert page["unreadCount"] == 3
    times = [n["notificationId"] for n in page["notifications"]]
    assert times == sorted(times, reverse=True)  # newest first, whatever order they arrived in
    confirmed = next(m for m in emails if m["subject"] == "Your order is confirmed")
    body = confirmed["body"]  # the HTML part: the order's lines and totals
    assert "<td>Desk &lt;Lamp&gt;</td><td align=\"right\">2</td>" in body
    assert "12.50 USD" in body and "25.00 USD" in body
    assert len([m for m in mail_to(api, buyer.email) if m["subject"] == "Your order is confirmed"]) == 1
    first = page["notifications"][0]["notificationId"]
    for _ in range(2):
        read = api.post(f"/notifications/{first}/read", headers=buyer.auth)
        assert read.status_code == 200 and read.json()["unreadCount"] == 2
    older = notifications(api, buyer, size=1, cursor=notifications(api, buyer, size=1)["nextCursor"])
    assert older["notifications"][0]["notificationId"] == page["notifications"][1]["notificationId"]
    missing = api.post("/notifications/20260101T000000000Z-00000000000000000000/read", headers=buyer.auth)
    assert missing.status_code == 404 and error_code(missing) == "NOTIFICATION_NOT_FOUND"


def test_opting_out_of_email_stops_emails_but_not_the_inbox(api: httpx.Client, local_only: Stack, seller: User) -> None:
    buyer = verified(api, register(api, "buyer"))
    assert api.get("/notifications/preferences", headers=buyer.auth).json()["channels"] == {
        "inApp": True,
        "email": True,
    }
    put = api.put("/notifications/preferences", headers=buyer.auth,
                  json={"channels": {"email": False}, "kinds": {"orderCancelled": False}})  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["channels"] == {"inApp": True, "email": False} and put.json()["kinds"]["orderCancelled"] is False
    bad = api.put("/notifications/preferences", headers=buyer.auth, json={"kinds": {"spam": True}})
    assert bad.status_code == 422
    item = listing(api, seller, price=900, quantity=5)
    order = checkout(api, buyer, fill_cart(api, buyer, item["itemId"], 1), "4242").json()
    wait_order(api, buyer, order["orderId"], {"CONFIRMED"})
    assert api.post(f"/orders/{order['orderId']}/cancel", headers=buyer.auth).status_code == 200
    wait_kinds(api, buyer, {"orderConfirmed", "orderRefunded"})
    assert "orderCancelled" not in kinds_of(api, buyer)  # that kind is off on every channel
    assert mail_to(api, buyer.email) == []  # and email is off for every kind


def test_an_unverified_address_gets_no_email_until_verified(api: httpx.Client, local_only: Stack, seller: User) -> None:
    buyer = register(api, "buyer")  # anyone can register someone else's address: the shop does not mail it
    item = listing(api, seller, price=700, quantity=5)
    order = checkout(api, buyer, fill_cart(api, buyer, item["itemId"], 1), "4242").json()
    wait_order(api, buyer, order["orderId"], {"CONFIRMED"})
    wait_kinds(api, buyer, {"orderConfirmed"})  # the inbox has it
    verified(api, buyer)
    assert api.post(f"/orders/{order['orderId']}/cancel", headers=buyer.auth).status_code == 200
    emails = eventually(lambda: (m := mail_to(api, buyer.email)) and len(m) >= 2 and m, timeout=60,
                        message="the cancellation and refund emails")  # fmt: skip
    # Mailed once the address was proven; what came before is not mailed afterwards.
    assert sorted(m["subject"] for m in emails) == ["Your order was cancelled", "Your payment was refunded"]
