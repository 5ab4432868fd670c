"""What a seller sends to restock a variant, and the stock they read back."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from shop.inventory.shards import MAX_SHARDS
from shop.validation import RequestModel, ViewModel


def _quantity_or_shards(schema: dict[str, Any], _: Any) -> None:
    """Say in the schema what the validator below says: a non-null quantity or a non-null shards, or both."""
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "integer"}}} for name in ("quantity", "shards")
    ]


class RestockRequest(RequestModel):
    """Units to add, a number of stock shards to switch the variant to (1: off), or both (shards first)."""

    model_config = ConfigDict(json_schema_extra=_quantity_or_shards)

    variant_id: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    quantity: Annotated[int | None, Field(gt=0, le=1_000_000)] = None
    shards: Annotated[int | None, Field(ge=1, le=MAX_SHARDS)] = None

    @model_validator(mode="after")
    def _something_to_do(self) -> RestockRequest:
        if self.quantity is None and self.shards is None:
            raise ValueError("give quantity, shards or both")
        return self


class StockView(ViewModel):
    item_id: str
    variant_id: str
    available: int
    reserved: int
    sold: int
    shards: int  # stock rows taking reservations (1: not sharded)
