"""The Notifications table: everything of one user under pk userId.

- sk "N#<notificationId>": one notification. Ids begin with the event's time, so a query of "N#" newest first
  pages by time; the rest of the id derives from the event id and the user, so a redelivered event writes the
  same key and its conditional put is refused (shop.notifications.inbox). Once read it gets `expiresAt` and
  TTL deletes it after ReadNotificationRetentionDays; unread ones are kept, so UNREAD never counts a gone row.
- sk "UNREAD": the count of unread notifications, changed in the same transaction as the rows it counts.
- sk "PREFS": the user's preferences (channels and kinds opted out of).
- sk "ERASED": written when the account was deleted and everything else of the user erased; it holds no
  personal data and makes the inbox refuse notices of events that arrive after the erasure.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from shop.config import notify_settings
from shop.dynamodb import TableName

NOTIFICATION_PREFIX = "N#"
UNREAD = "UNREAD"
PREFS = "PREFS"
ERASED = "ERASED"


class NotificationRow(Model):
    class Meta:
        table_name = TableName(notify_settings, "notifications_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True)  # "N#<notificationId>"
    kind = UnicodeAttribute()
    event_id = UnicodeAttribute(attr_name="eventId")  # the domain event (or stream record) it was made from
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    order_id = UnicodeAttribute(attr_name="orderId", null=True)
    item_id = UnicodeAttribute(attr_name="itemId", null=True)
    read = BooleanAttribute(default=False)
    occurred_at = UnicodeAttribute(attr_name="occurredAt")
    created_at = UnicodeAttribute(attr_name="createdAt")
    # Epoch seconds, set when the notification is read: DynamoDB's TTL deletes it after the retention.
    expires_at = NumberAttribute(attr_name="expiresAt", null=True)


class UnreadCount(Model):
    class Meta:
        table_name = TableName(notify_settings, "notifications_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True, default=UNREAD)
    unread = NumberAttribute(default=0)


class PreferencesRow(Model):
    class Meta:
        table_name = TableName(notify_settings, "notifications_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True, default=PREFS)
    channels = MapAttribute[str, Any]()  # type: ignore[no-untyped-call]  # {"inApp": bool, "email": bool}
    kinds = MapAttribute[str, Any]()  # type: ignore[no-untyped-call]  # {kind: bool}
    updated_at = UnicodeAttribute(attr_name="updatedAt")


class ErasedMarker(Model):
    class Meta:
        table_name = TableName(notify_settings, "notifications_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True, default=ERASED)
    erased_at = UnicodeAttribute(attr_name="erasedAt")
