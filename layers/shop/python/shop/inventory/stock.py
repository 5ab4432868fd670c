"""Stock per variant, reserved for an order in one transaction, then sold (committed) or released.

A stock row holds `available` (what buyers can still take, what GET /items shows), `reserved` (held
for unpaid orders) and `sold`. Reserving moves units available -> reserved, committing reserved -> sold,
releasing reserved -> available, returning (a cancelled paid order) sold -> available, so
available + reserved + sold only changes when a seller restocks. Rows written before checkout existed
have no reserved/sold: DynamoDB's ADD treats a missing number as 0.

Every move of one order goes through its reservation record (shop.inventory.tables.ReservationRow), updated
in the same transaction with a condition on its status: a retried commit or release finds the record
already moved and changes nothing. No oversell under any concurrency: the `available >= quantity`
conditions are checked by DynamoDB inside the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shop import clock
from shop.dynamodb import ConditionCheck, cancellation, find, transaction
from shop.errors import OutOfStockError
from shop.inventory.tables import RESERVATION, ReservationRow, ReservedLine, Stock

# TransactWriteItems takes at most 100 actions: one per line, the reservation record and the order.
MAX_LINES = 98

RESERVED, COMMITTED, RELEASED, RETURNED = "RESERVED", "COMMITTED", "RELEASED", "RETURNED"


@dataclass(frozen=True)
class StockLine:
    item_id: str
    variant_id: str
    quantity: int


class Quantity(Protocol):
    """Anything that says how many units of which variant (a cart line, an order line)."""

    @property
    def item_id(self) -> str: ...

    @property
    def variant_id(self) -> str: ...

    @property
    def quantity(self) -> float: ...


def stock_lines(lines: Iterable[Quantity]) -> list[StockLine]:
    return [StockLine(x.item_id, x.variant_id, int(x.quantity)) for x in lines]


class OrderNoLongerPendingError(Exception):
    """The order was cancelled (or ended) before its inventory could be reserved."""


def merge_lines(lines: Iterable[StockLine]) -> list[StockLine]:
    """One line per variant (a transaction may touch each row once), in a stable order."""
    totals: dict[tuple[str, str], int] = {}
    for line in lines:
        key = (line.item_id, line.variant_id)
        totals[key] = totals.get(key, 0) + line.quantity
    return [StockLine(item, variant, quantity) for (item, variant), quantity in sorted(totals.items())]


def reserve(order_id: str, lines: Iterable[StockLine], *, only_while: ConditionCheck) -> None:
    """Hold every line's units for the order, all or nothing; a repeat for the same order does nothing.

    `only_while` is checked inside the same transaction (checkout passes "the order is still PENDING").
    Raises OutOfStockError naming the first line that cannot be served, OrderNoLongerPendingError when
    `only_while` no longer holds (the order was cancelled meanwhile).
    """
    merged = merge_lines(lines)
    if len(merged) > MAX_LINES:
        raise ValueError(f"at most {MAX_LINES} lines per reservation")
    now = clock.now_iso()
    record = ReservationRow(
        order_id, status=RESERVED, updated_at=now,
        lines=[ReservedLine(item_id=x.item_id, variant_id=x.variant_id, quantity=x.quantity) for x in merged],  # type: ignore[no-untyped-call]
    )  # fmt: skip
    try:
        with transaction() as writes:
            writes.save(record, condition=ReservationRow.order_id.does_not_exist())
            only_while.add_to(writes)
            for line in merged:
                writes.update(
                    Stock(line.item_id, line.variant_id),
                    actions=[
                        Stock.available.add(-line.quantity), Stock.reserved.add(line.quantity),
                        Stock.updated_at.set(now),
                    ],
                    condition=Stock.available >= line.quantity,
                )  # fmt: skip
    except TransactWriteError as error:
        # Condition checks go first, then puts, then updates: [only_while, reservation, *stock].
        failed = cancellation(error).failed
        if 1 in failed:
            return  # reserved before: this is a retry of a step that succeeded
        if 0 in failed:
            raise OrderNoLongerPendingError(order_id) from error
        for position, line in enumerate(merged, start=2):
            if position in failed:
                raise OutOfStockError(
                    details={"itemId": line.item_id, "variantId": line.variant_id, "requested": line.quantity,
                             "available": available_units(line.item_id, line.variant_id)}
                ) from error  # fmt: skip
        raise


@dataclass(frozen=True)
class Sale:
    """The writes that turn an order's reservation into a sale (reserved -> sold), for the transaction that
    confirms the order: the reservation moves RESERVED -> COMMITTED on the condition that it is still RESERVED."""

    record: ReservationRow

    def add_to(self, writes: TransactWrite) -> None:
        now = clock.now_iso()
        writes.update(
            self.record, actions=[ReservationRow.status.set(COMMITTED), ReservationRow.updated_at.set(now)],
            condition=ReservationRow.status == RESERVED,
        )  # fmt: skip
        for x in self.record.lines:
            units = int(x.quantity)
            writes.update(
                Stock(x.item_id, x.variant_id),
                actions=[Stock.reserved.add(-units), Stock.sold.add(units), Stock.updated_at.set(now)],
            )


def sale_of(order_id: str) -> Sale | None:
    """The order's reservation as a sale to commit, or None when it is not RESERVED (already committed,
    or released)."""
    record = _reservation(order_id)
    if record is None or record.status != RESERVED:
        return None
    return Sale(record)


def release(order_id: str) -> str | None:
    """Give the order's units back: reserved -> available, or sold -> available for a paid order that was
    cancelled. Idempotent. Returns the reservation's new status (None when nothing was ever reserved)."""
    for _ in range(3):
        record = _reservation(order_id)
        if record is None or record.status in (RELEASED, RETURNED):
            return None if record is None else record.status
        moved_from, moved_to, source = (
            (RESERVED, RELEASED, Stock.reserved) if record.status == RESERVED else (COMMITTED, RETURNED, Stock.sold)
        )
        now = clock.now_iso()
        try:
            with transaction() as writes:
                writes.update(
                    record, actions=[ReservationRow.status.set(moved_to), ReservationRow.updated_at.set(now)],
                    condition=ReservationRow.status == moved_from,
                )  # fmt: skip
                for x in record.lines:
                    writes.update(
                        Stock(x.item_id, x.variant_id),
                        actions=[source.add(-int(x.quantity)), Stock.available.add(int(x.quantity)),
                                 Stock.updated_at.set(now)],
                    )  # fmt: skip
            return moved_to
        except TransactWriteError as error:
            if 0 not in cancellation(error).failed:
                raise
            # Moved by someone else in the meantime (a commit, or a concurrent release): look again.
    raise RuntimeError(f"reservation of {order_id} kept changing")


def reservation_status(order_id: str) -> str | None:
    record = _reservation(order_id)
    return None if record is None else record.status


def available_units(item_id: str, variant_id: str) -> int:
    row = find(Stock, item_id, variant_id)
    return 0 if row is None else int(row.available)


def shortages(lines: Iterable[StockLine]) -> list[dict[str, object]]:
    """Lines that cannot be served from what is available now (a soft check: reserve() decides)."""
    merged = merge_lines(lines)
    keys = [(x.item_id, x.variant_id) for x in merged]
    rows = Stock.batch_get(keys, consistent_read=True)
    found = {(row.item_id, row.variant_id): int(row.available) for row in rows}
    levels = [(x, found.get((x.item_id, x.variant_id), 0)) for x in merged]
    return [
        {"itemId": x.item_id, "variantId": x.variant_id, "requested": x.quantity, "available": available}
        for x, available in levels
        if available < x.quantity
    ]


def _reservation(order_id: str) -> ReservationRow | None:
    return find(ReservationRow, order_id, RESERVATION)
