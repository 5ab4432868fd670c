"""The accounts outbox: which Profiles stream records become AccountDeleted."""

from __future__ import annotations

from typing import Any

from shop.accounts.events import account_events_for


def record(
    event_name: str, new: dict[str, str] | None, old: dict[str, str] | None, event_id: str = "e1"
) -> dict[str, Any]:
    def image(values: dict[str, str] | None) -> dict[str, Any] | None:
        return None if values is None else {name: {"S": value} for name, value in values.items()}

    ddb: dict[str, Any] = {"Keys": {"userId": {"S": "u1"}, "sk": {"S": "PROFILE"}}}
    if new is not None:
        ddb["NewImage"] = image(new)
    if old is not None:
        ddb["OldImage"] = image(old)
    return {"eventID": event_id, "eventName": event_name, "dynamodb": ddb}


PROFILE = {"userId": "u1", "sk": "PROFILE", "updatedAt": "2026-11-30T00:00:00Z"}


def test_a_profile_reaching_deleted_announces_account_deleted_with_only_the_user_id() -> None:
    (event,) = account_events_for(record("MODIFY", {**PROFILE, "status": "DELETED"}, {**PROFILE, "status": "DELETING"}))
    assert (event.type, event.source, event.data) == ("AccountDeleted", "shop.accounts", {"userId": "u1"})


def test_a_redelivered_record_makes_the_same_event_id() -> None:
    deleted = record("MODIFY", {**PROFILE, "status": "DELETED"}, {**PROFILE, "status": "DELETING"}, "same")
    assert account_events_for(deleted)[0].id == account_events_for(dict(deleted))[0].id


def test_nothing_else_announces_anything() -> None:
    deleting, deleted = {**PROFILE, "status": "DELETING"}, {**PROFILE, "status": "DELETED"}
    assert account_events_for(record("MODIFY", deleting, {**PROFILE, "status": "ACTIVE"})) == []
    assert account_events_for(record("MODIFY", deleted, deleted)) == []
    assert account_events_for(record("REMOVE", None, {**PROFILE, "status": "DELETED"})) == []  # the tombstone's TTL
    address = {"userId": "u1", "sk": "ADDRESS#adr_1", "status": "DELETED"}
    assert account_events_for(record("INSERT", address, None)) == []
