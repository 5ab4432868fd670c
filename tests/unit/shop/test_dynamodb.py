"""shop.dynamodb: table names on use, what a refused write means, and stream images as plain values."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pynamodb.exceptions import CancellationReason, PutError, TransactWriteError, UpdateError, VerboseClientError
from pynamodb.models import Model

from shop.config import ConfigurationError, catalog_settings
from shop.dynamodb import TableName, cancellation, condition_failed, find, stream_image, transaction, transient
from shop.inventory.tables import Stock


def test_a_table_name_is_read_when_used_and_a_missing_one_is_named(monkeypatch):
    class Meta:
        table_name = TableName(catalog_settings, "sku_claims_table")

    catalog_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="SKU_CLAIMS_TABLE"):
        _ = Meta.table_name
    monkeypatch.setenv("SKU_CLAIMS_TABLE", "stack-SkuClaims-1")
    catalog_settings.cache_clear()
    assert Meta.table_name == "stack-SkuClaims-1"
    catalog_settings.cache_clear()


def stock(variant: str = "default", available: int = 1) -> Stock:
    return Stock("itm_1", variant, available=available, updated_at="2026-01-01T00:00:00.000Z")


def test_find_reads_a_row_or_answers_none(tables):
    assert find(Stock, "itm_1", "default") is None
    stock(available=3).save()
    found = find(Stock, "itm_1", "default")
    assert found is not None and int(found.available) == 3


def test_single_writes_refused_by_their_condition(tables):
    stock().save(condition=Stock.item_id.does_not_exist())
    with pytest.raises(PutError) as put:
        stock().save(condition=Stock.item_id.does_not_exist())
    assert condition_failed(put.value)
    with pytest.raises(UpdateError) as update:
        stock().update(actions=[Stock.available.add(-2)], condition=Stock.available >= 2)
    assert condition_failed(update.value)


def test_other_failures_are_not_condition_failures(tables, monkeypatch):
    monkeypatch.setenv("INVENTORY_TABLE", "NoSuchTable")
    from shop.config import settings

    settings.cache_clear()
    with pytest.raises(PutError) as put:
        stock().save()
    assert not condition_failed(put.value)


def test_a_transaction_says_which_actions_conditions_failed(tables):
    stock("a").save()
    writes = transaction()
    writes.save(stock("b"), condition=Stock.item_id.does_not_exist())  # position 0 (puts before updates)
    writes.update(stock("a"), actions=[Stock.available.add(-5)], condition=Stock.available >= 5)  # 1
    with pytest.raises(TransactWriteError) as cancelled:
        writes._commit()
    assert cancellation(cancelled.value).failed == {1}
    assert not cancellation(cancelled.value).busy


def transaction_error(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code) if code else None for code in codes]
    cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
                               "TransactWriteItems", cancellation_reasons=reasons)  # fmt: skip
    return TransactWriteError("cancelled", cause=cause)


def test_a_conflict_is_told_apart_from_a_failed_condition():
    conflicted = cancellation(transaction_error(None, "TransactionConflict"))
    assert (conflicted.failed, conflicted.busy) == (frozenset(), True)
    both = cancellation(transaction_error("ConditionalCheckFailed", None, "ConditionalCheckFailed"))
    assert (both.failed, both.busy) == ({0, 2}, False)
    assert cancellation(TransactWriteError("network down")).failed == frozenset()


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "UpdateItem")


@pytest.mark.parametrize(
    ("error", "is_transient"),
    [
        (transaction_error(None, "TransactionConflict"), True),
        (transaction_error("ThrottlingError", None), True),
        (transaction_error("ConditionalCheckFailed", "TransactionConflict"), False),  # a condition did fail
        (transaction_error("ConditionalCheckFailed"), False),
        (UpdateError("throttled", client_error("ProvisionedThroughputExceededException")), True),
        (PutError("server fault", client_error("InternalServerError")), True),
        (PutError("refused", client_error("ConditionalCheckFailedException")), False),
        (PutError("bad request", client_error("ValidationException")), False),
        (UpdateError("no answer", EndpointConnectionError(endpoint_url="http://127.0.0.1:1")), True),
        (client_error("ThrottlingException"), True),  # a boto3 call outside pynamodb
        (ValueError("not DynamoDB"), False),
    ],
)
def test_busy_or_unavailable_is_told_apart_from_a_refusal(error: Exception, is_transient: bool):
    assert transient(error) is is_transient


def test_a_busy_error_is_found_under_the_error_raised_from_it():
    wrapped = RuntimeError("the step failed")
    wrapped.__cause__ = PutError("throttled", client_error("ProvisionedThroughputExceededException"))
    assert transient(wrapped)


def test_stream_images_become_plain_json_ready_values():
    raw = {
        "itemId": {"S": "itm_01"}, "price": {"N": "999"}, "weight": {"N": "0.5"}, "active": {"BOOL": True},
        "sku": {"NULL": True}, "tags": {"L": [{"S": "b"}, {"S": "a"}]}, "sizes": {"SS": ["M", "L", "S"]},
        "counts": {"NS": ["10", "2", "1.5"]}, "specifications": {"M": {"w": {"N": "2"}, "deep": {"M": {}}}},
    }  # fmt: skip
    image = stream_image(raw)
    assert image == {
        "itemId": "itm_01", "price": 999, "weight": 0.5, "active": True, "sku": None, "tags": ["b", "a"],
        "sizes": ["L", "M", "S"], "counts": [1.5, 2, 10], "specifications": {"w": 2, "deep": {}},
    }  # fmt: skip
    assert type(image["price"]) is int and type(image["weight"]) is float and type(image["counts"][1]) is int


def test_untyped_empty_maps_of_dynamodb_local_read_as_empty_maps():
    assert stream_image({"attributes": {}, "specifications": {"M": {"inner": {}}}}) == {
        "attributes": {},
        "specifications": {"inner": {}},
    }
    assert stream_image(None) is None
    with pytest.raises(ValueError, match="not a DynamoDB attribute value"):
        stream_image({"broken": "text"})


def test_every_table_in_a_thread_shares_one_botocore_session(tables):
    """A session's first client loads the service model (~50 ms); pynamodb alone made one session per table."""

    class Other(Model):
        class Meta:
            table_name = "another-table"

    stock_session = Stock._get_connection().connection.session
    assert Other._get_connection().connection.session is stock_session

    elsewhere: list[object] = []
    thread = threading.Thread(target=lambda: elsewhere.append(Other._get_connection().connection.session))
    thread.start()
    thread.join()
    assert elsewhere[0] is not stock_session  # botocore sessions are not shared between threads
