"""What a buyer sends to check out, and what POST /checkout answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shop.validation import RequestModel, ViewModel

# 13-19 digits, single spaces allowed between groups. No Luhn check: the provider validates the number,
# and only a well-formed number is worth sending to it (docs/checkout.md).
CARD_PATTERN = r"^\d(?: ?\d){12,18}$"


class PaymentInfo(RequestModel):
    payment_type: Literal["CARD"]
    card_no: Annotated[str, Field(pattern=CARD_PATTERN, description="13-19 digits, spaces allowed")]


class CheckoutRequest(RequestModel):
    cart_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount: Annotated[int, Field(ge=0, description="The cart's total as shown to the buyer, minor units")]
    payment_info: PaymentInfo


class CheckoutAccepted(ViewModel):
    order_id: str
    status: str
