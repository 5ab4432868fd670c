"""`python -m infra stock-shards ITEM_ID SHARDS [--variant V]`: switch a hot variant's stock to SHARDS rows
(1: off) and rebalance, on the running local cloud or a deployed stack (--stack-name / --stack-outputs, as
`python -m infra reconcile`). The operator's side of what a seller does with POST /items/{itemId}/stock
`{"shards": N}`; it runs shop.inventory.shards.set_shards in this process, with the caller's credentials.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from infra.launcher import ROOT


def switch(outputs: Mapping[str, str], environment: Mapping[str, str], item_id: str, variant_id: str,
           shards: int) -> dict[str, Any]:  # fmt: skip
    """Set the variant's shard count and rebalance; answers the rows' counts afterwards."""
    layer = str(ROOT / "layers" / "shop" / "python")
    if layer not in sys.path:
        sys.path.insert(0, layer)
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        if environment.get(name):
            os.environ[name] = environment[name]
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    os.environ.update({"ITEMS_TABLE": outputs["ItemsTableName"], "INVENTORY_TABLE": outputs["InventoryTableName"],
                       "ORDERS_TABLE": outputs["OrdersTableName"], "PAYMENTS_TABLE": outputs["PaymentsTableName"],
                       "IDEMPOTENCY_TABLE": "unused", "IDEMPOTENCY_TTL_SECONDS": "3600"})  # fmt: skip
    from shop.inventory.shards import set_shards

    rows = set_shards(item_id, variant_id, shards)
    return {"itemId": item_id, "variantId": variant_id, "shards": rows.active, "available": list(rows.available),
            "reserved": rows.reserved, "sold": rows.sold}  # fmt: skip
