"""Hot-SKU sharding: one variant's stock split over N rows, each under its own partition key.

DynamoDB serves one partition key at most ~1,000 writes/s, and every reservation, sale and release of a
variant writes its stock row: in a flash sale on one SKU that row is the limit, however fast the code is.
A variant switched to N shards keeps its home row (pk itemId, shard 0) and N-1 shard rows (pk
"itemId#1" .. "itemId#N-1", same variantId, `shardOf` = itemId), each with its own available / reserved /
sold / stocked counts; the variant's stock is their sum (GET /items, the cart's and checkout's checks).

- A reservation takes each line's units from the rows in `take_order`: a random active shard first, then
  the other active ones, then rows beyond the active count (units released there after a switch-off); a
  line may be split over several rows, all in the order's one transaction, each row's `available >= n`
  checked by DynamoDB, so nothing is oversold. The reservation record names the row of every unit.
- A sale (reserved -> sold) and a release (reserved or sold -> available) go to the row the units came
  from, so units are spread back as they were taken; a restock is split over the active shards.
- `set_shards` switches a variant to N shards (1: off) and `rebalance` moves available units between rows
  towards an even spread over the active ones (inactive rows to 0). Every move is one transaction taking x
  units from one row (`available >= x`) and adding them to another, `stocked` moving with them, so every
  row keeps available + reserved + sold = stocked and no unit is ever created or lost; a move that loses a
  race with a reservation is recomputed from a fresh read. Rows are never deleted (they may still hold
  reserved or sold units of running orders).

Which variants are sharded is remembered per process for SHARDED_TTL_SECONDS, so the reservation path of
an unsharded variant costs no read: its transaction updates the home row on the condition that it is not
sharded, and a refused condition is looked into (shard_rows) before it is read as out of stock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from shop import clock
from shop.dynamodb import cancellation, condition_failed, find, transaction
from shop.errors import StockRowNotFoundError
from shop.inventory.tables import Stock

MAX_SHARDS = 32
SHARDED_TTL_SECONDS = 10.0
REBALANCE_ROUNDS = 20

Key = tuple[str, str]  # (item id, variant id)

_sharded_until: dict[Key, float] = {}  # variants seen sharded by this process, until when to believe it


def row_key(item_id: str, shard: int) -> str:
    """The partition key of a variant's stock row number `shard` (0: the home row, the item id itself)."""
    return item_id if shard == 0 else f"{item_id}#{shard}"


def is_shard_row(item_id: str) -> bool:
    """A stock row's item id is a shard row's key ("itemId#n"), not an item's."""
    return "#" in item_id


@dataclass(frozen=True)
class Rows:
    """One variant's stock rows as read: `counts[n]` is row n's available units (0 for a row not found)."""

    key: Key
    active: int  # rows that take reservations and restocks (the home row's `shards`, at least 1)
    available: tuple[int, ...]  # per row, 0 .. len-1 (every row ever made)
    reserved: int  # summed over the rows
    sold: int

    @property
    def total_available(self) -> int:
        return sum(self.available)

    @property
    def sharded(self) -> bool:
        """More than the home row holds or takes units: reservations must read the rows first."""
        return self.active > 1 or any(self.available[1:])


def _row_count(home: Stock) -> int:
    return max(int(home.shards or 1), int(home.shard_rows or 1))


def read_rows(keys: Iterable[Key], *, consistent: bool = True) -> dict[Key, Rows]:
    """Every variant's rows: one batch read of the home rows, one more of the shard rows of sharded ones.
    Variants without a stock row are left out."""
    wanted = list(dict.fromkeys(keys))
    homes = {(row.item_id, row.variant_id): row for row in Stock.batch_get(wanted, consistent_read=consistent)}
    extra = [(row_key(item, n), variant) for (item, variant), home in homes.items()
             for n in range(1, _row_count(home))]  # fmt: skip
    shard_rows = {(row.item_id, row.variant_id): row for row in Stock.batch_get(extra, consistent_read=consistent)}
    found: dict[Key, Rows] = {}
    for (item, variant), home in homes.items():
        rows = [home] + [shard_rows.get((row_key(item, n), variant)) for n in range(1, _row_count(home))]
        found[(item, variant)] = Rows(
            key=(item, variant), active=max(int(home.shards or 1), 1),
            available=tuple(max(int(row.available), 0) if row is not None else 0 for row in rows),
            reserved=sum(int(row.reserved or 0) for row in rows if row is not None),
            sold=sum(int(row.sold or 0) for row in rows if row is not None),
        )  # fmt: skip
        remember((item, variant), sharded=found[(item, variant)].sharded)
    return found


def with_shards(home_rows: Iterable[Stock]) -> dict[str, int]:
    """Available units per variant from an item's home rows (one query), reading shard rows only for the
    sharded variants (one batch read)."""
    homes = list(home_rows)
    available = {row.variant_id: max(int(row.available), 0) for row in homes}
    sharded = [(row.item_id, row.variant_id) for row in homes if _row_count(row) > 1]
    if sharded:
        for (_, variant), rows in read_rows(sharded).items():
            available[variant] = rows.total_available
    return available


def known_sharded(key: Key) -> bool:
    until = _sharded_until.get(key)
    return until is not None and until > time.monotonic()


def remember(key: Key, *, sharded: bool) -> None:
    if sharded:
        _sharded_until[key] = time.monotonic() + SHARDED_TTL_SECONDS
    else:
        _sharded_until.pop(key, None)


def take_order(active: int, rows: int, start: int) -> list[int]:
    """The rows a reservation tries, in order: active shards from `start` round, then the inactive rows."""
    active = max(1, min(active, rows))
    return [(start + n) % active for n in range(active)] + list(range(active, rows))


def plan_take(available: Sequence[int], active: int, quantity: int, start: int) -> list[tuple[int, int]] | None:
    """(row, units) to take `quantity` units from rows holding `available`, in take_order; None when all the
    rows together hold fewer."""
    if sum(max(units, 0) for units in available) < quantity:
        return None
    taken: list[tuple[int, int]] = []
    left = quantity
    for row in take_order(active, len(available), start):
        units = min(max(available[row], 0), left)
        if units:
            taken.append((row, units))
            left -= units
        if not left:
            break
    return taken


def plan_moves(available: Sequence[int], active: int) -> list[tuple[int, int, int]]:
    """(from row, to row, units) that turn `available` into an even spread over the first `active` rows (the
    first rows get the remainder) and nothing on the others; applied in order, no row ever goes below 0."""
    active = max(1, min(active, len(available)))
    total = sum(available)
    target = [total // active + (1 if n < total % active else 0) if n < active else 0 for n in range(len(available))]
    surplus = [[n, available[n] - target[n]] for n in range(len(available)) if available[n] > target[n]]
    moves: list[tuple[int, int, int]] = []
    for n in range(len(available)):
        deficit = target[n] - available[n]
        while deficit > 0:
            source = surplus[0]
            units = min(source[1], deficit)
            moves.append((source[0], n, units))
            deficit -= units
            source[1] -= units
            if not source[1]:
                surplus.pop(0)
    return moves


def set_shards(item_id: str, variant_id: str, shards: int) -> Rows:
    """Switch a variant to `shards` stock rows (1 switches sharding off), then rebalance; safe while orders
    run (see the module docstring). Raises StockRowNotFoundError for a variant without stock."""
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards is between 1 and {MAX_SHARDS}")
    home = find(Stock, item_id, variant_id)
    if home is None:
        raise StockRowNotFoundError(details={"itemId": item_id, "variantId": variant_id})
    existing = _row_count(home)
    now = clock.now_iso()
    for n in range(existing, shards):
        row = Stock(row_key(item_id, n), variant_id, available=0, reserved=0, sold=0, stocked=0, shard_of=item_id,
                    updated_at=now)  # fmt: skip
        try:
            row.save(condition=Stock.item_id.does_not_exist())
        except PutError as error:
            if not condition_failed(error):
                raise  # else made by an earlier, interrupted switch: keep its counts
    if shards > existing:
        try:  # never shrinks, even when two switches race: rows past it would drop out of every sum
            home.update(actions=[Stock.shard_rows.set(shards)],
                        condition=Stock.shard_rows.does_not_exist() | (Stock.shard_rows < shards))  # fmt: skip
        except UpdateError as error:
            if not condition_failed(error):
                raise
    Stock(item_id, variant_id).update(actions=[Stock.shards.set(shards), Stock.updated_at.set(now)])
    remember((item_id, variant_id), sharded=shards > 1)
    return rebalance(item_id, variant_id)


def rebalance(item_id: str, variant_id: str) -> Rows:
    """Move available units towards an even spread over the active shards (see plan_moves), one two-row
    transaction per move; re-read and re-plan after a move that lost a race with a reservation."""
    key = (item_id, variant_id)
    for _ in range(REBALANCE_ROUNDS):
        rows = read_rows([key])[key]
        home = find(Stock, item_id, variant_id)
        keeps_stocked = home is not None and home.stocked is not None
        moves = plan_moves(rows.available, rows.active)
        if not moves:
            return rows
        for source, target, units in moves:
            if not _move(item_id, variant_id, source, target, units, keeps_stocked=keeps_stocked):
                break  # a reservation took units meanwhile: read again
    return read_rows([key])[key]


def _move(item_id: str, variant_id: str, source: int, target: int, units: int, *, keeps_stocked: bool) -> bool:
    now = clock.now_iso()

    def counts(sign: int, shard: int) -> list[Action]:
        actions: list[Action] = [Stock.available.add(sign * units), Stock.updated_at.set(now)]
        if shard != 0 or keeps_stocked:  # a home row written before rows kept `stocked` keeps none
            actions.append(Stock.stocked.add(sign * units))
        return actions

    try:
        with transaction() as writes:
            writes.update(Stock(row_key(item_id, source), variant_id), actions=counts(-1, source),
                          condition=Stock.available >= units)  # fmt: skip
            writes.update(Stock(row_key(item_id, target), variant_id), actions=counts(+1, target),
                          condition=Stock.item_id.exists())  # fmt: skip
    except TransactWriteError as error:
        if 0 in cancellation(error).failed:
            return False
        raise
    return True


def random_start(active: int) -> int:
    return random.randrange(max(active, 1))  # noqa: S311 - spreads load over shards, not a secret
