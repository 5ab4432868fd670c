"""What happened, for whom: domain events and Inventory-stream records -> notices (one per user to tell).

Order lifecycle events name their buyer; a price drop (ItemUpdated with a lower price than before) and a
restock (a stock row moving from none available to some) are told to every user whose wishlist holds the
item. Each notice keeps the id of what caused it, so whoever records it can refuse a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shop.dynamodb import stream_image

# Order and payment events (shop.orders.events, shop.payments.events) -> notification kind.
ORDER_KINDS = {
    "OrderConfirmed": "orderConfirmed",
    "PaymentNeedsConfirmation": "paymentNeedsConfirmation",
    "OrderPaymentFailed": "paymentFailed",
    "OrderExpired": "orderExpired",
    "OrderShipped": "orderShipped",
    "OrderCancelled": "orderCancelled",
    "PaymentRefunded": "orderRefunded",
}
ITEM_UPDATED = "ItemUpdated"
ACCOUNT_DELETED = "AccountDeleted"

_TITLES = {
    "orderConfirmed": "Your order is confirmed",
    "paymentNeedsConfirmation": "Your payment needs your confirmation",
    "paymentFailed": "Your payment did not go through",
    "orderExpired": "Your order expired before it was paid",
    "orderShipped": "Your order has shipped",
    "orderCancelled": "Your order was cancelled",
    "orderRefunded": "Your payment was refunded",
    "priceDrop": "An item on your wishlist is cheaper",
    "backInStock": "An item on your wishlist is back in stock",
}


@dataclass(frozen=True)
class Notice:
    user_id: str
    kind: str
    cause_id: str  # the domain event's id, or the stream record's eventID
    occurred_at: str
    title: str
    body: str
    order_id: str | None = None
    item_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # what the email shows (amounts, prices, item name)


def money(amount: int | None, currency: str | None) -> str:
    """Minor units as text: 129900, "USD" -> "1299.00 USD" (every currency the shop takes has two decimals)."""
    if amount is None:
        return ""
    return f"{amount // 100}.{amount % 100:02d} {currency or ''}".strip()


def order_notice(envelope: dict[str, Any]) -> Notice | None:
    """The buyer's notice of an order or payment event, or None for an event nobody is told about."""
    kind = ORDER_KINDS.get(str(envelope.get("type")))
    data = envelope.get("data") or {}
    if kind is None or not data.get("userId") or not data.get("orderId"):
        return None
    order_id = str(data["orderId"])
    amount = money(data.get("amount"), data.get("currency"))
    bodies = {
        "orderConfirmed": f"Order {order_id} is paid and confirmed ({amount}).",
        "paymentNeedsConfirmation": f"Approve the payment of {amount} for order {order_id} to complete it.",
        "paymentFailed": f"The payment for order {order_id} failed; nothing was charged.",
        "orderExpired": f"Order {order_id} was not paid in time; its items went back on sale.",
        "orderShipped": f"Order {order_id} is on its way.",
        "orderCancelled": f"Order {order_id} was cancelled.",
        "orderRefunded": f"{amount} for order {order_id} was refunded to your card.",
    }
    return Notice(
        user_id=str(data["userId"]), kind=kind, cause_id=str(envelope["id"]),
        occurred_at=str(envelope.get("occurredAt") or ""), title=_TITLES[kind], body=bodies[kind],
        order_id=order_id, details={"amount": data.get("amount"), "currency": data.get("currency"),
                                    "paymentId": data.get("paymentId")},
    )  # fmt: skip


def price_drop_notices(envelope: dict[str, Any], wishlisters: Callable[[str], Iterable[str]]) -> list[Notice]:
    """ItemUpdated whose price went down, for an item on sale: one notice per user watching it."""
    data = envelope.get("data") or {}
    if envelope.get("type") != ITEM_UPDATED or "price" not in (data.get("changedFields") or []):
        return []
    before, now = data.get("previousPrice"), data.get("price")
    if not isinstance(before, int) or not isinstance(now, int) or now >= before or data.get("status") != "ACTIVE":
        return []
    item_id, name, currency = str(data["itemId"]), str(data.get("name") or ""), data.get("currency")
    body = f"{name} is now {money(now, currency)} (was {money(before, currency)})."
    return [
        Notice(
            user_id=user_id,
            kind="priceDrop",
            cause_id=str(envelope["id"]),
            occurred_at=str(envelope.get("occurredAt") or ""),
            title=_TITLES["priceDrop"],
            body=body,
            item_id=item_id,
            details={"name": name, "price": now, "previousPrice": before, "currency": currency},
        )
        for user_id in wishlisters(item_id)
    ]


@dataclass(frozen=True)
class Restock:
    item_id: str
    variant_id: str
    available: int
    cause_id: str
    occurred_at: str


def restock_of(record: dict[str, Any]) -> Restock | None:
    """The restock an Inventory-stream record stands for: a stock row that had no unit available and has
    some now (a seller's restock, or units a cancelled or expired order gave back). New rows are not
    restocks: nobody can have wishlisted an item before it existed."""
    if record.get("eventName") != "MODIFY":
        return None
    change = record.get("dynamodb") or {}
    new, old = stream_image(change.get("NewImage")) or {}, stream_image(change.get("OldImage")) or {}
    if int(old.get("available") or 0) > 0 or int(new.get("available") or 0) <= 0:
        return None
    if new.get("shardOf") or new.get("shards", 1) > 1:
        return None  # units moving between a hot variant's stock shards (shop.inventory.shards), not a restock
    return Restock(
        item_id=str(new["itemId"]), variant_id=str(new["variantId"]), available=int(new["available"]),
        cause_id=str(record["eventID"]), occurred_at=str(new.get("updatedAt") or ""),
    )  # fmt: skip


def restock_notices(restock: Restock, item: dict[str, Any] | None, user_ids: Iterable[str]) -> list[Notice]:
    """One backInStock notice per user watching the item; none for an item no longer on sale."""
    if item is None or item.get("status") != "ACTIVE":
        return []
    name = str(item.get("name") or "")
    body = f"{name} is back in stock ({restock.available} available)."
    return [
        Notice(
            user_id=user_id,
            kind="backInStock",
            cause_id=restock.cause_id,
            occurred_at=restock.occurred_at,
            title=_TITLES["backInStock"],
            body=body,
            item_id=restock.item_id,
            details={
                "name": name,
                "price": item.get("price"),
                "currency": item.get("currency"),
                "available": restock.available,
            },
        )
        for user_id in user_ids
    ]


def deleted_account(envelope: dict[str, Any]) -> str | None:
    """The user id of an AccountDeleted event (whose wishlist, notifications and preferences go), else None."""
    if envelope.get("type") != ACCOUNT_DELETED:
        return None
    # The shop's envelope carries it in data; a bare detail {"userId"} is read too.
    user_id = (envelope.get("data") or {}).get("userId") or envelope.get("userId")
    return str(user_id) if user_id else None
