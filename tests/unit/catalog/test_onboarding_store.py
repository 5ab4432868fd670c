"""Changing items and importing files against moto's DynamoDB and S3: versions, owners, SKUs, redelivery."""

from __future__ import annotations

import json

import boto3
import pytest

from shop import catalog
from shop.catalog.schemas import ItemChanges, NewImport, NewItem
from shop.errors import (
    BannedTermError,
    DuplicateSkuError,
    ForbiddenError,
    ImportNotFoundError,
    PriceOutOfRangeError,
    ValidationFailedError,
    VersionConflictError,
)
from shop.identity import caller_from_claims
from tests.unit.catalog.conftest import BUCKET
from tests.unit.shop.apigw_events import BUYER_CLAIMS, SELLER_CLAIMS

SELLER = caller_from_claims(SELLER_CLAIMS)
OTHER_SELLER = caller_from_claims({**SELLER_CLAIMS, "sub": "another-seller"})
BUYER = caller_from_claims(BUYER_CLAIMS)
MUG = {"name": "Mug", "description": "Blue", "price": 999, "quantity": 5, "sku": "MUG-1", "category": "Kitchen"}


def count(dynamodb, table):
    return dynamodb.scan(TableName=table, Select="COUNT")["Count"]


def create(body=MUG, seller=SELLER):
    return catalog.onboard_item(seller, NewItem.model_validate(body))


def change(item, **fields):
    return ItemChanges.model_validate({"version": item.version, **fields})


def test_changes_bump_the_version_and_keep_stock(tables):
    item = create({**MUG, "variants": [{"variantId": "v1", "stock": 5}], "quantity": 5})
    changed = catalog.update_item(
        SELLER, item.item_id, change(item, price=1299, brand=" Acme ", variants=[{"variantId": "v1", "price": 1499}])
    )
    assert (changed.version, changed.price, changed.brand, changed.variants[0].price) == (2, 1299, "Acme", 1499)
    assert changed.updated_at >= item.updated_at and changed.available == 5 and changed.sku == "MUG-1"
    assert catalog.get_item(item.item_id) == changed
    cleared = catalog.update_item(SELLER, item.item_id, change(changed, brand=None))
    assert cleared.brand is None and cleared.version == 3


def test_a_stale_version_is_a_conflict_and_writes_nothing(tables):
    item = create()
    catalog.update_item(SELLER, item.item_id, change(item, name="Cup"))
    with pytest.raises(VersionConflictError) as conflict:
        catalog.update_item(SELLER, item.item_id, change(item, name="Bowl"))
    assert conflict.value.details == {"itemId": item.item_id, "expectedVersion": 1, "currentVersion": 2}
    assert catalog.get_item(item.item_id).name == "Cup"


def test_only_the_owning_seller_changes_an_item(tables):
    item = create()
    for caller in (OTHER_SELLER, BUYER):
        with pytest.raises(ForbiddenError):
            catalog.update_item(caller, item.item_id, change(item, name="Mine now"))
        with pytest.raises(ForbiddenError):
            catalog.set_status(caller, item.item_id, catalog.INACTIVE)
    assert catalog.get_item(item.item_id).version == 1


def test_changes_pass_the_compliance_rules(tables):
    item = create()
    with pytest.raises(BannedTermError):
        catalog.update_item(SELLER, item.item_id, change(item, description="a counterfeit mug"))
    with pytest.raises(PriceOutOfRangeError):
        catalog.update_item(SELLER, item.item_id, change(item, category="books", price=600_000))
    with pytest.raises(ValidationFailedError):
        catalog.update_item(SELLER, item.item_id, change(item, variants=[{"variantId": "nope", "price": 5}]))
    assert catalog.get_item(item.item_id).version == 1


def test_deactivating_twice_bumps_the_version_once(tables):
    item = create()
    off = catalog.set_status(SELLER, item.item_id, catalog.INACTIVE)
    again = catalog.set_status(SELLER, item.item_id, catalog.INACTIVE)
    assert (off.status, off.version, again.version) == ("INACTIVE", 2, 2)
    assert catalog.get_item(item.item_id).status == "INACTIVE"
    assert catalog.set_status(SELLER, item.item_id, catalog.ACTIVE).version == 3


def test_a_sellers_duplicate_sku_is_refused_and_writes_nothing(tables):
    first = create()
    writes = (count(tables, "Items"), count(tables, "Inventory"), count(tables, "SkuClaims"))
    with pytest.raises(DuplicateSkuError) as refused:
        create({**MUG, "sku": "mug-1", "name": "Another mug"})  # SKUs compare case-insensitively
    assert refused.value.details == {"sku": "mug-1", "itemId": first.item_id}
    assert (count(tables, "Items"), count(tables, "Inventory"), count(tables, "SkuClaims")) == writes == (1, 1, 1)
    create(seller=OTHER_SELLER)  # another seller may use the same SKU


def test_banned_terms_and_prices_refuse_new_items_before_any_write(tables):
    with pytest.raises(BannedTermError):
        create({**MUG, "tags": ["Rhino Horn"]})
    with pytest.raises(PriceOutOfRangeError):
        create({**MUG, "category": "books", "price": 10})
    assert count(tables, "Items") == count(tables, "SkuClaims") == 0


# ---------------------------------------------------------------- imports
def upload(started, body: bytes):
    key = started.upload.fields["key"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


ROWS = [
    {"name": "Mug", "description": "", "price": 999, "quantity": 5, "sku": "IMP-1"},
    {"name": "Fake", "description": "counterfeit", "price": 999, "quantity": 5},
    {"name": "Book", "description": "", "price": 1, "quantity": 5, "category": "Books"},
    {"name": "Cup", "description": "", "price": 499, "quantity": 5, "sku": "IMP-2"},
]


def test_an_import_creates_good_rows_reports_bad_ones_and_redelivery_creates_nothing_twice(tables):
    started = catalog.start_import(SELLER, NewImport(format="jsonl"))
    assert started.upload.fields["key"] == f"imports/{SELLER.user_id}/{started.import_id}.jsonl"
    assert catalog.get_import(SELLER, started.import_id).status == "PENDING"
    key = upload(started, "\n".join(json.dumps(row) for row in ROWS).encode())

    report = catalog.process_import_upload(BUCKET, key, "etag-1", 100, invocation_id="req-1")
    assert report is not None
    assert (report.status, report.total, report.created, report.failed) == ("COMPLETED", 4, 2, 2)
    assert [(e.row, e.code, e.field) for e in report.errors] == [
        (2, "BANNED_TERM", "description"),
        (3, "PRICE_OUT_OF_RANGE", "price"),
    ]
    assert count(tables, "Items") == 2

    # A finished import takes nothing more.
    assert catalog.process_import_upload(BUCKET, key, "etag-1", 100, invocation_id="req-1") is None
    assert count(tables, "Items") == 2 and count(tables, "SkuClaims") == 2


def test_an_import_being_processed_is_processed_by_its_invocation_only(tables):
    started = catalog.start_import(SELLER, NewImport(format="jsonl"))
    key = upload(started, "\n".join(json.dumps(row) for row in ROWS).encode())
    # The first invocation claimed the import and died before it finished...
    tables.update_item(
        TableName="Imports", Key={"importId": {"S": started.import_id}},
        UpdateExpression="SET #s = :p, processedBy = :r", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "PROCESSING"}, ":r": {"S": "req-1"}},
    )  # fmt: skip
    # ...so a second S3 event (a duplicate notification, or the seller uploading again) is skipped,
    assert catalog.process_import_upload(BUCKET, key, "etag-2", 100, invocation_id="req-2") is None
    assert count(tables, "Items") == 0
    assert catalog.get_import(SELLER, started.import_id).status == "PROCESSING"
    # while Lambda's retry of the claiming invocation finishes the job.
    report = catalog.process_import_upload(BUCKET, key, "etag-1", 100, invocation_id="req-1")
    assert report is not None and (report.status, report.created, report.failed) == ("COMPLETED", 2, 2)
    assert catalog.process_import_upload(BUCKET, key, "etag-1", 100, invocation_id="req-1") is None


def test_an_import_is_visible_to_its_seller_only(tables):
    started = catalog.start_import(SELLER, NewImport(format="csv"))
    with pytest.raises(ImportNotFoundError):
        catalog.get_import(OTHER_SELLER, started.import_id)
    with pytest.raises(ImportNotFoundError):
        catalog.get_import(SELLER, "imp_nope")
    with pytest.raises(ForbiddenError):
        catalog.start_import(BUYER, NewImport(format="csv"))


def test_a_file_that_cannot_be_read_fails_the_import(tables):
    started = catalog.start_import(SELLER, NewImport(format="csv"))
    key = upload(started, b"name,price\nMug,100\n")
    report = catalog.process_import_upload(BUCKET, key, "e", 20, invocation_id="req-1")
    assert report is not None and report.status == "FAILED" and report.failure_reason.startswith("BAD_CSV_HEADER")
    assert count(tables, "Items") == 0


def test_uploads_outside_any_import_are_ignored(tables):
    assert (
        catalog.process_import_upload(
            BUCKET, "imports/someone/imp_01ARZ3NDEKTSV4RRFFQ69G5FAV.csv", "e", 1, invocation_id="req-1"
        )
        is None
    )
    assert catalog.process_import_upload(BUCKET, "elsewhere.csv", "e", 1, invocation_id="req-1") is None
