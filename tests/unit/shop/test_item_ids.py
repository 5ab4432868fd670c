"""Item ids: prefixed ULIDs that sort by creation time."""

from __future__ import annotations

import time

from shop.ids import is_id, new_id


def test_ids_are_prefixed_ulids_and_unique():
    ids = [new_id("itm") for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(is_id(value, "itm") and len(value) == 30 for value in ids)


def test_ids_sort_by_creation_time():
    first = new_id("itm")
    time.sleep(0.002)
    assert new_id("itm") > first


def test_foreign_or_malformed_ids_are_recognised():
    valid = new_id("itm")
    for value in [
        "",
        "itm_",
        valid.lower(),
        valid.replace("itm_", "ord_"),
        valid + "0",
        "itm_" + "U" * 26,
        "8" + valid,
    ]:
        assert not is_id(value, "itm"), value
