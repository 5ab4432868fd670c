"""Notices from events, recorded and emailed once per event per user even when an event is fed twice or late,
against moto's in-process DynamoDB, Cognito and SES (the template's tables)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shop import aws, clock, notifications
from shop.config import checkout_settings, notify_settings, settings
from shop.idempotency import forget_wiring
from shop.identity import Caller
from shop.notifications.email import render
from shop.notifications.notices import Notice, price_drop_notices
from shop.notifications.tables import NotificationRow, PreferencesRow, UnreadCount
from shop.orders.tables import OrderRow
from tests.unit.moto_tables import mocked_tables, use_environment

SENDER = "notifications@example.com"
TABLES = {"NotificationsTable": "Notifications", "WishlistTable": "Wishlist", "IdempotencyTable": "Idempotency",
          "OrdersTable": "Orders", "ItemsTable": "Items"}  # fmt: skip


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    use_environment(monkeypatch, {"NOTIFICATIONS_TABLE": "Notifications", "WISHLIST_TABLE": "Wishlist",
                                  "ORDERS_TABLE": "Orders", "PAYMENTS_TABLE": "Payments",
                                  "NOTIFICATION_EMAIL_SOURCE": SENDER})  # fmt: skip
    with mocked_tables(TABLES):
        pool = boto3.client("cognito-idp").create_user_pool(PoolName="users", UsernameAttributes=["email"])
        pool_id = pool["UserPool"]["Id"]
        monkeypatch.setenv("USER_POOL_ID", pool_id)
        user = boto3.client("cognito-idp").admin_create_user(
            UserPoolId=pool_id, Username="buyer@example.com",
            UserAttributes=[{"Name": "email", "Value": "buyer@example.com"},
                            {"Name": "email_verified", "Value": "true"}],
        )["User"]  # fmt: skip
        boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
        for model in (NotificationRow, UnreadCount, PreferencesRow, OrderRow):
            model._connection = None
        for cached in (settings, checkout_settings, notify_settings):
            cached.cache_clear()
        aws.forget_clients()
        forget_wiring()
        user_id = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        yield {"userId": user_id, "poolId": pool_id}
        aws.forget_clients()
        forget_wiring()


def order_event(user_id: str, event_type: str, at: str, event_id: str) -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "version": 1, "occurredAt": at, "source": "shop.orders",
            "data": {"orderId": "ord_1", "userId": user_id, "amount": 2500, "currency": "USD",
                     "lines": [{"itemId": "itm_1", "variantId": "default", "quantity": 2, "unitPrice": 1250,
                                "name": "Mug"}]}}  # fmt: skip


def sent_count() -> int:
    return int(boto3.client("ses").get_send_quota()["SentLast24Hours"])


def test_the_same_event_twice_makes_one_notification_and_one_email(shop: dict[str, Any]) -> None:
    confirmed = order_event(shop["userId"], "OrderConfirmed", "2026-05-01T10:00:00.000Z", "e-1")
    notifications.on_event(confirmed)
    notifications.on_event(confirmed)
    rows = list(NotificationRow.query(shop["userId"], NotificationRow.sk.startswith("N#")))
    assert [row.kind for row in rows] == ["orderConfirmed"]
    assert notifications.unread_count(shop["userId"]) == 1
    assert sent_count() == 1


def test_an_unverified_address_is_not_emailed_but_the_inbox_has_the_notice(shop: dict[str, Any]) -> None:
    boto3.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=shop["poolId"], Username="buyer@example.com",
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )  # fmt: skip
    notifications.on_event(order_event(shop["userId"], "OrderConfirmed", "2026-05-01T10:00:00.000Z", "e-1"))
    assert notifications.unread_count(shop["userId"]) == 1
    assert sent_count() == 0


def test_a_read_notification_expires_after_the_retention_and_an_unread_one_never(
    shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READ_NOTIFICATION_RETENTION_DAYS", "30")
    notify_settings.cache_clear()
    notifications.on_event(order_event(shop["userId"], "OrderConfirmed", "2026-05-01T10:00:00.000Z", "e-1"))
    [row] = NotificationRow.query(shop["userId"], NotificationRow.sk.startswith("N#"))
    assert row.expires_at is None  # unread: kept, so the unread count never counts a row TTL deleted
    caller = Caller(user_id=shop["userId"], email=None, groups=frozenset(), role="buyer")
    before = int(clock.now().timestamp())
    notifications.mark_read(caller, row.sk.removeprefix("N#"))
    expires = NotificationRow.get(shop["userId"], row.sk).expires_at
    assert expires is not None and before + 30 * 86400 <= expires <= clock.now().timestamp() + 30 * 86400


def test_events_arriving_out_of_order_list_in_event_order(shop: dict[str, Any]) -> None:
    shipped = order_event(shop["userId"], "OrderShipped", "2026-05-01T11:00:00.000Z", "e-2")
    confirmed = order_event(shop["userId"], "OrderConfirmed", "2026-05-01T10:00:00.000Z", "e-1")
    for event in (shipped, confirmed, shipped):
        notifications.on_event(event)
    ids = [row.sk for row in NotificationRow.query(shop["userId"], NotificationRow.sk.startswith("N#"),
                                                   scan_index_forward=False)]  # fmt: skip
    kinds = [NotificationRow.get(shop["userId"], sk).kind for sk in ids]
    assert kinds == ["orderShipped", "orderConfirmed"] and notifications.unread_count(shop["userId"]) == 2


def test_an_event_after_the_account_was_erased_leaves_nothing(shop: dict[str, Any]) -> None:
    notifications.on_event(order_event(shop["userId"], "OrderConfirmed", "2026-05-01T10:00:00.000Z", "e-1"))
    notifications.on_event({"id": "d-1", "type": "AccountDeleted", "data": {"userId": shop["userId"]}})
    notifications.on_event(order_event(shop["userId"], "OrderShipped", "2026-05-01T11:00:00.000Z", "e-2"))
    left = [row.sk for row in NotificationRow.query(shop["userId"])]
    assert left == ["ERASED"]


def test_only_a_lower_price_of_an_item_on_sale_is_a_price_drop() -> None:
    def event(before: int, now: int, status: str = "ACTIVE") -> dict[str, Any]:
        return {"id": "i-1", "type": "ItemUpdated", "occurredAt": "2026-05-01T10:00:00.000Z",
                "data": {"itemId": "itm_1", "name": "Mug", "price": now, "previousPrice": before, "currency": "USD",
                         "status": status, "changedFields": ["price"]}}  # fmt: skip

    watchers = lambda item_id: ["u-1", "u-2"]  # noqa: E731
    assert [n.user_id for n in price_drop_notices(event(3000, 2400), watchers)] == ["u-1", "u-2"]
    assert price_drop_notices(event(2400, 3000), watchers) == []
    assert price_drop_notices(event(3000, 2400, "INACTIVE"), watchers) == []


def test_emails_escape_what_sellers_wrote_in_html_and_show_lines_and_totals() -> None:
    notice = Notice(user_id="u-1", kind="orderConfirmed", cause_id="e-1", occurred_at="2026-05-01T10:00:00.000Z",
                    title="Your order is confirmed", body="Order ord_1 is paid.", order_id="ord_1")  # fmt: skip
    order = {"orderId": "ord_1", "currency": "USD", "totals": {"subtotal": 2500, "tax": 0, "shipping": 499,
             "total": 2999}, "lines": [{"name": "<b>Mug</b>", "quantity": 2, "unitPrice": 1250}]}  # fmt: skip
    subject, text, html = render(notice, order)
    assert subject == "Your order is confirmed"
    assert "2 x <b>Mug</b>" in text and "29.99 USD" in text
    assert "&lt;b&gt;Mug&lt;/b&gt;" in html and "<b>Mug</b>" not in html and "29.99 USD" in html
