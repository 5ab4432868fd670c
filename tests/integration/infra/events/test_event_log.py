"""The local cloud's event log at GET /_local/events: every event the shop bus routed, by type, by id,
after a sequence number, and long-polled with `wait`."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx

from tests.conftest import Stack


def put(stack: Stack, detail_type: str, detail: dict[str, Any]) -> str:
    response = stack.client("events").put_events(
        Entries=[{"EventBusName": stack.outputs["EventBusName"], "Source": "shop.test", "DetailType": detail_type,
                  "Detail": json.dumps(detail)}]
    )  # fmt: skip
    assert response["FailedEntryCount"] == 0, response
    return str(response["Entries"][0]["EventId"])


def read(api: httpx.Client, **query: Any) -> dict[str, Any]:
    response = api.get("/_local/events", params=query, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_event_on_the_shop_bus_is_readable_by_type_and_by_id(local_only: Stack, api: httpx.Client) -> None:
    detail_type, detail_id = f"Probe{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    event_id = put(local_only, detail_type, {"id": detail_id, "marker": "by-type"})
    [by_type] = read(api, type=detail_type, wait=10)["events"]
    assert by_type["bus"] == local_only.outputs["EventBusName"]
    event = by_type["event"]
    assert (event["id"], event["detail-type"], event["source"], event["detail"]) == (
        event_id, detail_type, "shop.test", {"id": detail_id, "marker": "by-type"},
    )  # fmt: skip
    assert {"version", "account", "time", "region", "resources"} <= event.keys()
    assert read(api, id=event_id)["events"] == [by_type]
    assert read(api, id=detail_id)["events"] == [by_type]


def test_wait_returns_when_the_event_arrives_and_after_skips_older_events(local_only: Stack, api: httpx.Client) -> None:
    detail_type = f"Probe{uuid.uuid4().hex[:8]}"
    put(local_only, detail_type, {"n": 1})
    [first] = read(api, type=detail_type, wait=10)["events"]
    assert read(api, type=detail_type, after=first["seq"])["events"] == []

    later = threading.Timer(1.0, put, (local_only, detail_type, {"n": 2}))
    began = time.monotonic()
    later.start()
    try:
        answer = read(api, type=detail_type, after=first["seq"], wait=15)
    finally:
        later.join()
    waited = time.monotonic() - began
    [second] = answer["events"]
    assert second["event"]["detail"] == {"n": 2} and second["seq"] > first["seq"]
    assert 0.9 <= waited < 10, waited  # held until the event came, not until the wait ran out
    assert answer["last"] >= second["seq"]
    assert [item["event"]["detail"] for item in read(api, type=detail_type)["events"]] == [{"n": 1}, {"n": 2}]


def test_bad_query_values_are_400(local_only: Stack, api: httpx.Client) -> None:
    assert api.get("/_local/events", params={"wait": "60"}).status_code == 400
    assert api.get("/_local/events", params={"after": "x"}).status_code == 400
