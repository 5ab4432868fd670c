"""Reservation rows -> InventoryReserved / InventoryCommitted / InventoryReleased (published from the Orders
stream by shop.orders.events, which holds the reservation rows)."""

from __future__ import annotations

from typing import Any

from shop.events import RowEvents


def _reservation_data(new: dict[str, Any]) -> dict[str, Any]:
    return {"orderId": new["orderId"], "status": new.get("status"), "lines": new.get("lines", [])}


RESERVATION_EVENTS = RowEvents(
    source="shop.inventory",
    types={"RESERVED": "InventoryReserved", "RELEASED": "InventoryReleased", "COMMITTED": "InventoryCommitted",
           "RETURNED": "InventoryReleased"},
    data=_reservation_data,
)  # fmt: skip
