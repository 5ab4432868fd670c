"""What buyers and guests send to change a cart, and the cart they read back."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shop.catalog.schemas import VariantId
from shop.validation import RequestModel, Text, ViewModel

MAX_LINE_QUANTITY = 10  # units of one item variant per cart line
MAX_LINES = 50  # lines per cart: keeps a cart one small DynamoDB item and a checkout one transaction
CART_TOKEN_PATTERN = r"^ct_[A-Za-z0-9_-]{43}$"  # noqa: S105  # a format, not a secret

CartToken = Annotated[str, Field(pattern=CART_TOKEN_PATTERN, description="The guest cart's token (opaque).")]
Region = Annotated[str, Text(2, 16, case="upper", pattern=r"^[A-Z0-9-]+$")]


class LineChange(RequestModel):
    """PATCH /cart: set one line's quantity (absolute, not a delta); 0 removes the line."""

    item_id: Annotated[str, Text(1, 64)]
    variant_id: VariantId | None = Field(default=None, description="Omit (or 'default') for items without variants.")
    quantity: Annotated[int, Field(ge=0, le=MAX_LINE_QUANTITY)]


class MergeRequest(RequestModel):
    """POST /cart/merge: the guest cart to fold into the signed-in buyer's cart."""

    cart_token: CartToken


class CartLineView(ViewModel):
    item_id: str
    variant_id: str
    name: str
    quantity: int
    unit_price: int = Field(description="Price per unit when the line was last set (the snapshot).")
    price_taken_at: str = Field(description="When the snapshot was taken (ISO-8601 UTC).")
    line_total: int
    low_stock: bool = Field(description="Few units were left when the line was set.")


class TotalsView(ViewModel):
    subtotal: int
    tax: int
    shipping: int
    total: int


class CartView(ViewModel):
    cart_id: str | None = Field(description="Null for a guest who has no cart yet.")
    lines: list[CartLineView]
    totals: TotalsView
    currency: str
    region: str = Field(description="The shipping region whose tax applies.")


class GuestCartView(CartView):
    cart_token: str | None = Field(
        description="Send it back in X-Cart-Token; it changes when the guest's cart had expired."
    )
