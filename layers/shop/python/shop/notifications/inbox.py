"""The in-app inbox: record a notice at most once, list newest first with the unread count, mark read, erase.

At most once per event per user is a conditional write keyed on the event: the notification's key is made
from the event's time, its id and the user, and the put is refused when that key exists. It is a condition
on the row itself, not powertools idempotency, because the row is permanent (idempotency records expire
after IDEMPOTENCY_TTL_SECONDS, and a replay from a dead-letter queue may come later than that), and because
the unread count is raised in the same transaction, so it moves exactly when a row is added.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError

from shop import clock
from shop.config import notify_settings
from shop.dynamodb import cancellation, transaction
from shop.errors import NotificationNotFoundError, ValidationFailedError
from shop.identity import Caller
from shop.notifications.notices import Notice
from shop.notifications.schemas import NotificationPage, NotificationView, ReadReceipt
from shop.notifications.tables import ERASED, NOTIFICATION_PREFIX, UNREAD, ErasedMarker, NotificationRow, UnreadCount

_NAMESPACE = uuid.UUID("0b7e3c52-6a1d-4f0e-8d2b-5c9a7e41f3d8")  # fixed forever: ids must not change
ID_PATTERN = r"^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{20}$"
_ID = re.compile(ID_PATTERN)
_DIGITS = re.compile(r"[^0-9]")


def notification_id(notice: Notice) -> str:
    """The id "<event time, compact>-<hash of (cause, user, kind)>": sorts by the time of the event (so the inbox is
    in event order whatever order events arrive in) and is the same for every delivery of one event."""
    digits = _DIGITS.sub("", notice.occurred_at)[:17].ljust(17, "0")  # yyyymmddHHMMSSmmm
    stamp = f"{digits[:8]}T{digits[8:]}Z"
    return f"{stamp}-{uuid.uuid5(_NAMESPACE, f'{notice.cause_id}:{notice.user_id}:{notice.kind}').hex[:20]}"


def record(notice: Notice) -> bool:
    """Add the notice to its user's inbox unless it is there already; True when this call added it."""
    row = NotificationRow(
        notice.user_id, NOTIFICATION_PREFIX + notification_id(notice), kind=notice.kind, event_id=notice.cause_id,
        title=notice.title, body=notice.body, order_id=notice.order_id, item_id=notice.item_id, read=False,
        occurred_at=notice.occurred_at, created_at=clock.now_iso(),
    )  # fmt: skip
    try:
        with transaction() as writes:  # positions: the check (0), the put (1), the update (2)
            writes.condition_check(ErasedMarker, notice.user_id, ERASED, condition=ErasedMarker.sk.does_not_exist())
            writes.save(row, condition=NotificationRow.sk.does_not_exist())
            writes.update(UnreadCount(notice.user_id, UNREAD), actions=[UnreadCount.unread.add(1)])
    except TransactWriteError as error:
        if cancellation(error).failed & {0, 1}:
            return False  # a redelivery (recorded before), or an event that outlived its user's account
        raise
    return True


def unread_count(user_id: str) -> int:
    counter = next(iter(UnreadCount.query(user_id, UnreadCount.sk == UNREAD, consistent_read=True)), None)
    return max(int(counter.unread), 0) if counter is not None else 0


def page(caller: Caller, *, cursor: str | None, size: int) -> NotificationPage:
    """The caller's notifications, newest first, `size` at a time; the cursor is the last id answered."""
    # Below the cursor's key are only older notifications: "N#..." sorts before the PREFS and UNREAD rows.
    condition = (
        NotificationRow.sk < NOTIFICATION_PREFIX + _decode_cursor(cursor)
        if cursor
        else NotificationRow.sk.startswith(NOTIFICATION_PREFIX)
    )
    rows = list(NotificationRow.query(caller.user_id, condition, scan_index_forward=False, limit=size + 1))
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode_cursor(rows[-1].sk.removeprefix(NOTIFICATION_PREFIX)) if more and rows else None
    return NotificationPage(
        notifications=[view(row) for row in rows], next_cursor=next_cursor, unread_count=unread_count(caller.user_id)
    )


def mark_read(caller: Caller, notification: str) -> ReadReceipt:
    """Mark one of the caller's notifications read (a repeat answers the same); NotificationNotFoundError."""
    if not _ID.match(notification):
        raise NotificationNotFoundError(details={"notificationId": notification})
    row = NotificationRow(caller.user_id, NOTIFICATION_PREFIX + notification)
    try:
        with transaction() as writes:
            expires = clock.now() + timedelta(days=notify_settings().read_retention_days)
            writes.update(row, actions=[NotificationRow.read.set(True),
                                        NotificationRow.expires_at.set(int(expires.timestamp()))],
                          condition=NotificationRow.sk.exists() & (NotificationRow.read == False))  # noqa: E712  # fmt: skip
            writes.update(UnreadCount(caller.user_id, UNREAD), actions=[UnreadCount.unread.add(-1)])
    except TransactWriteError as error:
        if 0 not in cancellation(error).failed:
            raise
        try:
            NotificationRow.get(caller.user_id, NOTIFICATION_PREFIX + notification, consistent_read=True)
        except NotificationRow.DoesNotExist:
            raise NotificationNotFoundError(details={"notificationId": notification}) from None
    return ReadReceipt(notification_id=notification, read=True, unread_count=unread_count(caller.user_id))


def erase(user_id: str) -> int:
    """Delete every row of the user (notifications, the unread count, the preferences), then mark the user
    erased so that a notice arriving later is refused; returns how many rows went."""
    rows = [row for row in NotificationRow.query(user_id, attributes_to_get=["userId", "sk"]) if row.sk != ERASED]
    with NotificationRow.batch_write() as batch:
        for row in rows:
            batch.delete(row)
    ErasedMarker(user_id, ERASED, erased_at=clock.now_iso()).save()
    return len(rows)


def view(row: NotificationRow) -> NotificationView:
    return NotificationView(
        notification_id=row.sk.removeprefix(NOTIFICATION_PREFIX), kind=row.kind, title=row.title, body=row.body,
        order_id=row.order_id, item_id=row.item_id, read=bool(row.read), occurred_at=row.occurred_at,
        created_at=row.created_at,
    )  # fmt: skip


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        last_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        last_id = ""
    if not _ID.match(last_id):
        raise ValidationFailedError.of_field("cursor", "not a cursor from this list", "invalid")
    return last_id
