"""Notifications: order lifecycle events and wishlist alerts (price drops, restocks) become notifications, at
most once per event per user, in an in-app inbox (newest first, unread count, mark read) and by email
(SES, rendered from templates with the order's lines and totals), as each user's preferences allow.
AccountDeleted erases the user's wishlist, notifications and preferences.
"""

from shop.notifications.delivery import deliver, erase_account, on_event, on_inventory_record
from shop.notifications.inbox import mark_read, notification_id, page, record, unread_count
from shop.notifications.notices import Notice
from shop.notifications.preferences import get as get_preferences
from shop.notifications.preferences import put as put_preferences
from shop.notifications.schemas import (
    KINDS,
    NotificationPage,
    NotificationView,
    Preferences,
    PreferencesView,
    ReadReceipt,
)

__all__ = [
    "KINDS",
    "Notice",
    "NotificationPage",
    "NotificationView",
    "Preferences",
    "PreferencesView",
    "ReadReceipt",
    "deliver",
    "erase_account",
    "get_preferences",
    "mark_read",
    "notification_id",
    "on_event",
    "on_inventory_record",
    "page",
    "put_preferences",
    "record",
    "unread_count",
]
