"""`python -m infra events [--follow] [--limit N] [--type T]`: the events the local buses routed.

Read from the running cloud's event log (infra.events.log) at `GET /_local/events` on the gateway: the
last N events (of one detail-type with --type), then, with --follow, each new one as it arrives (the
request long-polls, so nothing is printed late and nothing is polled in between). Nothing is taken from
anyone: the log is a record, not a queue.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections import deque
from typing import Any

EVENTS_PATH = "/_local/events"
PAGE = 1000  # the most one read of the log returns
FOLLOW_WAIT_SECONDS = 20


def format_event(event: dict[str, Any], width: int = 160) -> str:
    detail = json.dumps(event.get("detail", {}), separators=(",", ":"), sort_keys=True)
    line = f"{event.get('time', '?'):20}  {event.get('source', '?'):<18} {event.get('detail-type', '?'):<22} {detail}"
    return line if len(line) <= width else line[: width - 1] + "…"


def read_events(api: str, *, after: int = 0, type: str | None = None, limit: int = PAGE, wait: float = 0) -> Any:
    """One read of the cloud's event log: {"events": [{"seq", "bus", "event"}], "last": highest seq}."""
    query = {"after": after, "limit": limit, **({"type": type} if type else {}), **({"wait": wait} if wait else {})}
    url = f"{api}{EVENTS_PATH}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=wait + 10) as response:  # noqa: S310 - the local gateway's URL
        return json.loads(response.read())


def _tail(api: str, limit: int, type: str | None) -> tuple[list[dict[str, Any]], int]:
    """The last `limit` events (of `type`) and the sequence number to follow from."""
    last = int(read_events(api, limit=1)["last"])
    if type is None:  # sequence numbers are contiguous: start `limit` before the end
        found = read_events(api, after=max(last - limit, 0), limit=max(min(limit, PAGE), 1))["events"]
        return (found if limit > 0 else []), last
    tail: deque[dict[str, Any]] = deque(maxlen=max(limit, 0))
    after = 0
    while page := read_events(api, after=after, type=type)["events"]:  # costs what this type holds
        tail.extend(page)
        after = page[-1]["seq"]
    return list(tail), last


def show_events(state: dict[str, Any], *, follow: bool, limit: int, type: str | None = None) -> int:
    api = state["endpoints"]["api"]
    events, cursor = _tail(api, limit, type)
    if not events and not follow:
        print("no events in the event log yet")
    for item in events:
        print(format_event(item["event"]), flush=True)
    try:
        while follow:
            found = read_events(api, after=cursor, type=type, wait=FOLLOW_WAIT_SECONDS)["events"]
            for item in found:
                print(format_event(item["event"]), flush=True)
            cursor = found[-1]["seq"] if found else cursor
    except KeyboardInterrupt:
        pass
    return 0
