"""The catalog: sellers onboard items (one at a time or in bulk from a file), change, (de)activate and
restock their own, and add images to them; anyone reads them.

- items: onboarding (validation, compliance, item + stock rows + SKU claim in one transaction,
  idempotent per seller and key), reading with live availability, versioned changes, restocking;
- compliance (+ data/): the marketplace's rules beyond the schema (banned terms, price ranges);
- imports: bulk onboarding from a JSONL or CSV file uploaded to S3;
- images: presigned image uploads and the pipeline that checks them and makes renditions;
- events: Items-stream records -> ItemCreated / ItemUpdated / ItemDeactivated (the catalog's outbox);
- schemas, tables: request and response models; the Items, SkuClaims and Imports tables.
"""

from shop.catalog.events import ItemEvent, item_event, item_event_of, publish_item_event
from shop.catalog.images import process_image_upload, request_image_upload
from shop.catalog.imports import get_import, process_import_upload, start_import
from shop.catalog.items import (
    ACTIVE,
    INACTIVE,
    get_item,
    load_item,
    onboard_item,
    onboard_item_once,
    restock,
    set_status,
    update_item,
)
from shop.catalog.tables import ITEM_ID_PREFIX

__all__ = [
    "ACTIVE",
    "INACTIVE",
    "ITEM_ID_PREFIX",
    "ItemEvent",
    "get_import",
    "get_item",
    "item_event",
    "item_event_of",
    "load_item",
    "onboard_item",
    "onboard_item_once",
    "process_image_upload",
    "process_import_upload",
    "publish_item_event",
    "request_image_upload",
    "restock",
    "set_status",
    "start_import",
    "update_item",
]
