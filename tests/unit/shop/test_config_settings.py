"""Settings come from the environment once, and a missing variable is named, not guessed."""

from __future__ import annotations

import pytest

from shop.config import ConfigurationError, load_checkout_settings, load_settings, settings

BASE = {
    "ITEMS_TABLE": "items",
    "INVENTORY_TABLE": "inventory",
    "IDEMPOTENCY_TABLE": "idempotency",
    "IDEMPOTENCY_TTL_SECONDS": "86400",
}


def test_reads_tables_ttl_and_optional_user_pool():
    loaded = load_settings({**BASE, "USER_POOL_ID": "pool", "USER_POOL_CLIENT_ID": "client"})
    assert (loaded.items_table, loaded.inventory_table, loaded.idempotency_table) == (
        "items",
        "inventory",
        "idempotency",
    )
    assert loaded.idempotency_ttl_seconds == 86400
    assert (loaded.user_pool_id, loaded.user_pool_client_id) == ("pool", "client")
    assert load_settings(BASE).user_pool_id is None


def test_missing_variables_are_named():
    with pytest.raises(ConfigurationError, match="ITEMS_TABLE, IDEMPOTENCY_TABLE"):
        load_settings({"INVENTORY_TABLE": "inventory", "IDEMPOTENCY_TTL_SECONDS": "60"})


@pytest.mark.parametrize("ttl", ["0", "-5", "1.5", "a day"])
def test_ttl_must_be_a_positive_integer(ttl):
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_TTL_SECONDS"):
        load_settings({**BASE, "IDEMPOTENCY_TTL_SECONDS": ttl})


def test_settings_are_read_once_and_frozen(monkeypatch):
    first = settings()
    monkeypatch.setenv("ITEMS_TABLE", "changed")
    assert settings() is first
    with pytest.raises(AttributeError):
        first.items_table = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("stage", "hooks"), [("dev", True), (None, True), ("prod", False)])
def test_payment_test_hooks_are_never_on_in_prod(stage, hooks):
    environ = {"ORDERS_TABLE": "orders", "PAYMENTS_TABLE": "payments", "PAYMENT_TEST_HOOKS": "true"}
    if stage is not None:
        environ["STAGE"] = stage
    assert load_checkout_settings(environ).payment_test_hooks is hooks
