"""Notifications as the API shows them, and the preferences a user sets."""

from __future__ import annotations

from pydantic import Field

from shop.validation import RequestModel, ViewModel

# What a notification can be about; each can be opted out of per channel (the preferences' `kinds`).
KINDS = (
    "orderConfirmed", "paymentNeedsConfirmation", "paymentFailed", "orderExpired", "orderShipped",
    "orderCancelled", "orderRefunded", "priceDrop", "backInStock",
)  # fmt: skip
CHANNELS = ("inApp", "email")


class NotificationView(ViewModel):
    notification_id: str
    kind: str
    title: str
    body: str
    order_id: str | None
    item_id: str | None
    read: bool
    occurred_at: str
    created_at: str


class NotificationPage(ViewModel):
    notifications: list[NotificationView]  # newest first
    next_cursor: str | None
    unread_count: int


class ReadReceipt(ViewModel):
    notification_id: str
    read: bool
    unread_count: int


class Channels(RequestModel):
    in_app: bool = True
    email: bool = True


class Kinds(RequestModel):
    order_confirmed: bool = True
    payment_needs_confirmation: bool = True
    payment_failed: bool = True
    order_expired: bool = True
    order_shipped: bool = True
    order_cancelled: bool = True
    order_refunded: bool = True
    price_drop: bool = True
    back_in_stock: bool = True


class Preferences(RequestModel):
    """PUT replaces the preferences: anything left out is on (opted in)."""

    channels: Channels = Field(default_factory=Channels)
    kinds: Kinds = Field(default_factory=Kinds)


class PreferencesView(ViewModel):
    channels: dict[str, bool]  # {"inApp": bool, "email": bool}
    kinds: dict[str, bool]  # one entry per kind (KINDS)
    updated_at: str | None
