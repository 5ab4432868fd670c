"""What an order keeps of its buyer once they delete their account (DELETE /me, shop.accounts.deletion).

The order stays for the books (amounts, lines, payment summary, history) and stays the buyer's by the opaque
user id; the address it shipped to, the only personal data an order holds, is cut down to where tax was due.
"""

from __future__ import annotations

from typing import Any

from shop import clock
from shop.dynamodb import plain_map
from shop.orders import archive
from shop.orders.tables import ARCHIVED, OrderRow

# Kept from the shipped-to address: the jurisdiction of the tax charged.
KEPT_ADDRESS_FIELDS = ("country", "taxRegion")


def anonymised_address(address: dict[str, Any]) -> dict[str, Any]:
    kept = {name: address[name] for name in KEPT_ADDRESS_FIELDS if address.get(name)}
    return {**kept, "anonymised": True}


def anonymise_orders_of(user_id: str) -> int:
    """Cut every order of the user down to no personal data; returns how many orders changed (0 on a re-run)."""
    changed = 0
    for order in OrderRow.by_user.query(user_id):
        if order.sk == ARCHIVED:  # an index entry: the order itself is a document in the S3 archive
            changed += _anonymise_archived(archive.archive_key(user_id, order.created_at, order.order_id), user_id)
            continue
        address = plain_map(order.address) if order.address is not None else None
        if address is None or address.get("anonymised"):
            continue
        order.update(
            actions=[OrderRow.address.set(anonymised_address(address)), OrderRow.updated_at.set(clock.now_iso())],
            condition=OrderRow.user_id == user_id,
        )
        changed += 1
    return changed


def _anonymise_archived(key: str, user_id: str) -> int:
    document = archive.read(key)
    address = document.get("address")
    if document.get("userId") != user_id or not isinstance(address, dict) or address.get("anonymised"):
        return 0
    archive.rewrite(key, {**document, "address": anonymised_address(address), "updatedAt": clock.now_iso()})
    return 1
