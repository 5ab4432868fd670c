"""What a buyer sends to check out, and what POST /checkout answers."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from shop.payments.schemas import CARD_NUMBER_PATTERN, PAYMENT_TOKEN_PATTERN
from shop.validation import RequestModel, ViewModel


class PaymentInfo(RequestModel):
    """The card, in exactly one form: `cardNo` (a full number, tokenized at once and never kept, or a masked
    number whose last four digits choose the test card) or `paymentToken` (a token the provider issued)."""

    # Validated below; stated here too, so the schema refuses neither and both as validation does.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["cardNo"], "properties": {"cardNo": {"type": "string"}}},
                {"required": ["paymentToken"], "properties": {"paymentToken": {"type": "string"}}},
            ]
        }
    )

    payment_type: Literal["CARD"]
    card_no: Annotated[
        str | None,
        Field(
            pattern=CARD_NUMBER_PATTERN,
            description="A full number (13-19 digits, single spaces allowed) or a masked one ending in its last "
            "four digits, e.g. `**** **** **** 1234`. Not with paymentToken.",
            examples=["**** **** **** 1234", "4242 4242 4242 4242"],
        ),
    ] = None
    payment_token: Annotated[
        str | None,
        Field(
            pattern=PAYMENT_TOKEN_PATTERN,
            description="A token the payment provider issued for the card. Not with cardNo.",
            examples=["tok_local_4242_0123456789abcdef"],
        ),
    ] = None

    @model_validator(mode="after")
    def exactly_one_card_form(self) -> Self:
        if (self.card_no is None) == (self.payment_token is None):
            raise ValueError("give exactly one of cardNo and paymentToken")
        return self


class CheckoutRequest(RequestModel):
    cart_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount: Annotated[int, Field(ge=0, description="The cart's total as shown to the buyer, minor units")]
    payment_info: PaymentInfo


class CheckoutAccepted(ViewModel):
    order_id: str
    status: str
