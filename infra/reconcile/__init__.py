"""The invariant checker: `python -m infra reconcile` reads every table of a running stack and checks that
stock, orders, payments, reservations and the events on the bus agree, and that no card number is stored.

    from infra.reconcile import local_target, reconcile
    report = reconcile(local_target(state), settle=5)
    report.ok, report.check("stock reserved = units of RESERVED reservations").violations

- report: Report (one Check per invariant: rows checked, violations, a note when skipped);
- invariants: the invariants as pure functions of decoded rows; cards: the Luhn scan;
- sources: where the data comes from (a local cloud's state file, or a deployed stack's outputs).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.reconcile import cards, invariants
from infra.reconcile.report import Check, Report, Violation
from infra.reconcile.sources import (
    ARCHIVE_KEY,
    Target,
    archived_orders,
    bus_events,
    described_stack,
    executions,
    key_names,
    key_of,
    local_target,
    log_files,
    scan,
    stack_target,
)

__all__ = [
    "CARDS_CHECK",
    "EVENTS_CHECK",
    "Check",
    "Report",
    "Target",
    "Violation",
    "described_stack",
    "local_target",
    "reconcile",
    "stack_target",
]

DEFAULT_SLACK_SECONDS = 30.0
DEFAULT_SETTLE_SECONDS = 10.0
EVENTS_CHECK = "every order status change is published as exactly one event (one event id)"
CARDS_CHECK = "no card number is stored anywhere"
SETTLE_POLL_SECONDS = 0.5
RECHECK_PAUSE_SECONDS = 1.0


def reconcile(
    target: Target,
    *,
    settle: float = DEFAULT_SETTLE_SECONDS,
    slack: float = DEFAULT_SLACK_SECONDS,
    payment_window_seconds: int | None = None,
    scan_logs: bool = True,
    now: datetime | None = None,
) -> Report:
    """Check every invariant of the stack `target` names; the report lists each check and its violations.

    `settle`: how long to wait for events not on the bus yet (they are published from the table streams,
    asynchronously) before declaring them missing. `slack`: how long an order may sit in a state a step in
    flight explains (an unwind half-way, a payment being confirmed) before it counts. `payment_window_seconds`
    overrides the stack's PaymentWindowSeconds.
    """
    window = payment_window_seconds if payment_window_seconds is not None else target.payment_window_seconds
    rules = invariants.Rules(
        now=now or datetime.now(UTC), payment_window=timedelta(seconds=window), slack=timedelta(seconds=slack)
    )
    checks, orders_rows = _row_checks(target, rules)
    if any(check.violations for check in checks):
        # The tables are read one after the other, not as one snapshot: on a stack that is taking orders, a
        # checkout between two reads looks like a violation. Only what a second read finds again counts.
        time.sleep(RECHECK_PAUSE_SECONDS)
        again, orders_rows = _row_checks(target, replace(rules, now=rules.now + _elapsed(rules.now)))
        checks = [_persisting(first, second) for first, second in zip(checks, again, strict=True)]
    report = Report(checks=checks)
    report.checks.append(_events_check(target, orders_rows, settle))
    report.checks.append(_cards_check(target, scan_logs))
    return report


def _row_checks(target: Target, rules: invariants.Rules) -> tuple[list[Check], list[dict[str, Any]]]:
    live, reservations, index_entries = _orders_table(target)
    archived = archived_orders(target)
    stock = list(scan(target, target.table("InventoryTableName")))
    payments = list(scan(target, target.table("PaymentsTableName")))
    orders_rows = _with_archived(live, archived)
    checks = invariants.check_stock(stock, reservations) + invariants.check_orders(
        orders_rows, reservations, payments, rules
    )
    referenced = [str(row["orderId"]) for row in [*reservations, *payments] if row.get("orderId") is not None]
    checks.append(invariants.check_one_place(
        [str(row["orderId"]) for row in live], {order_id: str(doc[ARCHIVE_KEY]) for order_id, doc in archived.items()},
        {str(row["orderId"]): str(row.get("archiveKey")) for row in index_entries}, referenced,
    ))  # fmt: skip
    return checks, orders_rows


def _with_archived(live: list[dict[str, Any]], archived: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The live orders and the archived ones: an archived order is still an order, whose payment,
    reservation and published events are checked against it (one in both places counts once)."""
    live_ids = {str(order["orderId"]) for order in live}
    return live + [order for order_id, order in archived.items() if order_id not in live_ids]


def _elapsed(since: datetime) -> timedelta:
    return max(datetime.now(UTC) - since, timedelta(0))


def _persisting(first: Check, second: Check) -> Check:
    """The second read's check, keeping only violations at places the first read found wrong too."""
    seen = {violation.where for violation in first.violations}
    second.violations = [violation for violation in second.violations if violation.where in seen]
    return second


def _orders_table(target: Target) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The Orders table's live orders, reservations and archive index entries."""
    rows = list(scan(target, target.table("OrdersTableName")))
    return tuple([row for row in rows if row.get("sk") == kind] for kind in ("ORDER", "RESERVATION", "ARCHIVED"))  # type: ignore[return-value]


def _events_check(target: Target, orders: Sequence[Mapping[str, Any]], settle: float) -> Check:
    check = Check(EVENTS_CHECK, unit="status changes")
    if target.event_log_url is None:
        check.skipped, check.note = True, "needs the local cloud's event log (GET /_local/events); not a local stack"
        return check
    deadline = time.monotonic() + settle
    while True:
        expected = invariants.expected_order_events(orders)
        events = bus_events(target) or []
        published = invariants.published_order_events(events)
        mismatches = invariants.event_mismatches(expected, published, [str(order["orderId"]) for order in orders])
        # A missing event, or one whose status change is newer than our read of the table, may just be late;
        # a duplicate stays one.
        late = [mismatch for mismatch in mismatches if mismatch.published == 0 or mismatch.expected == 0]
        if not late or time.monotonic() >= deadline:
            break
        time.sleep(SETTLE_POLL_SECONDS)
        orders = _with_archived(_orders_table(target)[0], archived_orders(target))
    check.checked = sum(expected.values())
    repeated = invariants.redeliveries(events)
    check.note = f"against the local event log, after up to {settle:g} s for late events" + (
        f"; {repeated} redelivery(ies) of an event id already published, which consumers deduplicate"
        if repeated else ""
    )
    for mismatch in mismatches:
        check.violation(f"order {mismatch.order_id}", invariants.describe_mismatch(mismatch))
    return check


def _scan_archive(check: Check, target: Target) -> None:
    """The order archive holds orders too: no card number in any archived document."""
    for order_id, order in archived_orders(target).items():
        check.checked += 1
        for found in cards.scan_value(order):
            check.violation(f"archived order {order_id} at {found.path}", f"card number {found.masked}")


def _cards_check(target: Target, scan_logs: bool) -> Check:
    check = Check(CARDS_CHECK, unit="items, executions, events and log files")
    for table in target.all_tables():
        keys = key_names(target, table)
        for item in scan(target, table):
            check.checked += 1
            for found in cards.scan_value(item):
                where = f"table {table} item {key_of(item, keys)} at {found.path}"
                check.violation(where, f"card number {found.masked}")
    _scan_archive(check, target)
    for name, parts in executions(target):
        check.checked += 1
        for found in cards.scan_value(parts):
            check.violation(f"execution {name}", f"card number {found.masked} in its input, output or history")
    for event in bus_events(target) or []:
        check.checked += 1
        for found in cards.scan_value(event):
            check.violation(f"event {event.get('id')} ({event.get('detail-type')})", f"card number {found.masked}")
    files = log_files(target) if scan_logs else []
    for path in files:
        check.checked += 1
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                for masked in cards.card_numbers(line):
                    check.violation(f"log {path.name}:{number}", f"card number {masked}")
    if not files:
        check.note = "no log files read" if scan_logs else "log files not read (--no-logs)"
    return check
