"""Stock per variant, reserved for an order in one transaction, then sold (committed) or released.

A stock row holds `available` (what buyers can still take, what GET /items shows), `reserved` (held
for unpaid orders) and `sold`. Reserving moves units available -> reserved, committing reserved -> sold,
releasing reserved -> available, returning (a cancelled paid order) sold -> available, so
available + reserved + sold only changes when a seller restocks. Rows written before checkout existed
have no reserved/sold: DynamoDB's ADD treats a missing number as 0.

Every move of one order goes through its reservation record (shop.inventory.tables.ReservationRow), updated
in the same transaction with a condition on its status: a retried commit or release finds the record
already moved and changes nothing. No oversell under any concurrency: the `available >= quantity`
conditions are checked by DynamoDB inside the transaction. A hot variant may be split over shard rows
(shop.inventory.shards): a reservation then takes from them and records the row of every unit, which its
sale or release goes back to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shop import clock
from shop.dynamodb import ConditionCheck, GuardedUpdate, StoreBusy, cancellation, find, transaction
from shop.errors import OutOfStockError
from shop.inventory import shards
from shop.inventory.tables import RESERVATION, ReservationRow, ReservedLine, Stock

# TransactWriteItems takes at most 100 actions: one per line, the reservation record, the order and its hold.
MAX_LINES = 97

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


def reserve(order_id: str, lines: Iterable[StockLine], *,
            only_while: ConditionCheck | GuardedUpdate) -> list[ReservedUnits] | None:  # fmt: skip
    """Hold every line's units for the order, all or nothing; a repeat for the same order does nothing.

    `only_while` is checked inside the same transaction: a ConditionCheck ("the order is still PENDING"),
    or a GuardedUpdate that also writes (checkout's saga moves the order PENDING -> CREATED with it, so
    the reservation and the order's move are one round trip). A sharded variant's units come from its
    shard rows (shop.inventory.shards), in the same transaction. Returns the rows the units were taken
    from (what the sale or release will write, so a later step need not read the reservation record
    back), None when the order was reserved before (a retry). Raises OutOfStockError naming the first
    line that cannot be served, OrderNoLongerPendingError when `only_while` no longer holds (the order
    was cancelled meanwhile), StoreBusy when the shard rows kept changing under it (another reservation
    took the units it planned on; a retry reads them again).
    """
    merged = merge_lines(lines)
    if len(merged) > MAX_LINES:
        raise ValueError(f"at most {MAX_LINES} lines per reservation")
    # The lines that take the sharded path, with their rows as last read (None: read them before planning).
    sharded: dict[tuple[str, str], shards.Rows | None] = {}
    for _ in range(RESERVE_ATTEMPTS):
        for line in merged:
            if (line.item_id, line.variant_id) not in sharded and shards.known_sharded((line.item_id, line.variant_id)):
                sharded[(line.item_id, line.variant_id)] = None
        unread = [key for key, rows in sharded.items() if rows is None]
        if unread:
            sharded.update(shards.read_rows(unread))
        takes = _plan(merged, sharded)
        if len(takes) > MAX_LINES:
            raise ValueError(f"at most {MAX_LINES} stock rows per reservation")
        try:
            _reserve_rows(order_id, takes, only_while)
            return [ReservedUnits(x.item_id, x.variant_id, x.units, x.shard) for x in takes]
        except TransactWriteError as error:
            # Condition checks go first, then puts, then updates (transaction()): [only_while, reservation,
            # *stock rows] for a check, [reservation, *its puts, only_while, *stock rows] for a guarded update.
            if isinstance(only_while, ConditionCheck):
                guard, record, first_row = 0, 1, 2
            else:
                record, guard = 0, 1 + len(only_while.puts)
                first_row = guard + 1
            failed = cancellation(error).failed
            if record in failed:
                return None  # reserved before: this is a retry of a step that succeeded
            if guard in failed:
                raise OrderNoLongerPendingError(order_id) from error
            refused = {takes[position - first_row].key for position in failed if position >= first_row}
            if not refused:
                raise
        _look_into(refused, merged, sharded)
    raise StoreBusy(f"the stock rows of order {order_id}'s lines kept changing; nothing was reserved")


RESERVE_ATTEMPTS = 5


def _look_into(refused: set[tuple[str, str]], merged: list[StockLine],
               sharded: dict[tuple[str, str], shards.Rows | None]) -> None:  # fmt: skip
    """After stock rows refused a reservation: a shard that ran short is read again on the next attempt; a
    home row that said no is read with its shards, and is out of stock unless it was sharded meanwhile."""
    for key in refused:
        if key in sharded:
            sharded[key] = None
            continue
        rows = shards.read_rows([key]).get(key)
        if rows is not None and rows.sharded:
            sharded[key] = rows
            continue
        line = next(x for x in merged if (x.item_id, x.variant_id) == key)
        available = rows.total_available if rows else 0
        raise OutOfStockError(details={"itemId": line.item_id, "variantId": line.variant_id,
                                       "requested": line.quantity, "available": available})  # fmt: skip


@dataclass(frozen=True)
class _Take:
    """Units of one line from one stock row; `direct`: the home row of a variant believed unsharded."""

    item_id: str
    variant_id: str
    shard: int
    units: int
    direct: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.item_id, self.variant_id)


def _plan(merged: list[StockLine], sharded: dict[tuple[str, str], shards.Rows | None]) -> list[_Take]:
    takes: list[_Take] = []
    for line in merged:
        rows = sharded.get((line.item_id, line.variant_id))
        if rows is None:
            takes.append(_Take(line.item_id, line.variant_id, 0, line.quantity, direct=True))
            continue
        plan = shards.plan_take(rows.available, rows.active, line.quantity, shards.random_start(rows.active))
        if plan is None:
            raise OutOfStockError(details={"itemId": line.item_id, "variantId": line.variant_id,
                                           "requested": line.quantity, "available": rows.total_available})  # fmt: skip
        takes += [_Take(line.item_id, line.variant_id, shard, units, direct=False) for shard, units in plan]
    return takes


def _reserve_rows(order_id: str, takes: list[_Take], only_while: ConditionCheck | GuardedUpdate) -> None:
    now = clock.now_iso()
    record = ReservationRow(
        order_id, status=RESERVED, updated_at=now,
        lines=[ReservedLine(item_id=x.item_id, variant_id=x.variant_id, quantity=x.units,  # type: ignore[no-untyped-call]
                            **({"shard": x.shard} if x.shard else {})) for x in takes],
    )  # fmt: skip
    with transaction() as writes:
        writes.save(record, condition=ReservationRow.order_id.does_not_exist())
        only_while.add_to(writes)
        for x in takes:
            condition = Stock.available >= x.units
            if x.direct:  # a variant switched to shards since this process last looked takes the other path
                condition = condition & (Stock.shards.does_not_exist() | (Stock.shards <= 1))
            writes.update(
                Stock(shards.row_key(x.item_id, x.shard), x.variant_id),
                actions=[Stock.available.add(-x.units), Stock.reserved.add(x.units), Stock.updated_at.set(now)],
                condition=condition,
            )  # fmt: skip


@dataclass(frozen=True)
class ReservedUnits:
    """Units of one variant an order holds on one stock row (0: the home row), as its reservation records them."""

    item_id: str
    variant_id: str
    quantity: int
    shard: int = 0

    def to_json(self) -> dict[str, object]:
        return {"itemId": self.item_id, "variantId": self.variant_id, "quantity": self.quantity, "shard": self.shard}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ReservedUnits:
        return cls(str(data["itemId"]), str(data["variantId"]), int(str(data["quantity"])),
                   int(str(data.get("shard", 0))))  # fmt: skip


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
                Stock(shards.row_key(x.item_id, int(x.shard or 0)), x.variant_id),
                actions=[Stock.reserved.add(-units), Stock.sold.add(units), Stock.updated_at.set(now)],
            )


def sale_from(order_id: str, reserved: Iterable[ReservedUnits]) -> Sale:
    """The sale of the units reserve() answered, built without reading the reservation record back: its
    transaction still moves the record only if it is RESERVED, so a reservation released meanwhile (an
    expiry, a cancel) refuses the sale as sale_of's read would have found it."""
    lines = [ReservedLine(item_id=x.item_id, variant_id=x.variant_id, quantity=x.quantity,  # type: ignore[no-untyped-call]
                          **({"shard": x.shard} if x.shard else {})) for x in reserved]  # fmt: skip
    return Sale(ReservationRow(order_id, status=RESERVED, lines=lines))


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
                for x in record.lines:  # back to the row each unit came from
                    writes.update(
                        Stock(shards.row_key(x.item_id, int(x.shard or 0)), x.variant_id),
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
    rows = shards.read_rows([(item_id, variant_id)]).get((item_id, variant_id))
    return 0 if rows is None else rows.total_available


def shortages(lines: Iterable[StockLine]) -> list[dict[str, object]]:
    """Lines that cannot be served from what is available now (a soft check: reserve() decides)."""
    merged = merge_lines(lines)
    keys = [(x.item_id, x.variant_id) for x in merged]
    found = {key: rows.total_available for key, rows in shards.read_rows(keys).items()}
    levels = [(x, found.get((x.item_id, x.variant_id), 0)) for x in merged]
    return [
        {"itemId": x.item_id, "variantId": x.variant_id, "requested": x.quantity, "available": available}
        for x, available in levels
        if available < x.quantity
    ]


def _reservation(order_id: str) -> ReservationRow | None:
    return find(ReservationRow, order_id, RESERVATION)
