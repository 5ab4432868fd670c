"""What a seller sends to restock a variant, and the stock they read back."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shop.validation import RequestModel, ViewModel


class RestockRequest(RequestModel):
    variant_id: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    quantity: Annotated[int, Field(gt=0, le=1_000_000)]


class StockView(ViewModel):
    item_id: str
    variant_id: str
    available: int
    reserved: int
    sold: int
