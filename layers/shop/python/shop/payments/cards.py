"""The card a checkout pays with, from whichever form the buyer sent: a full number (tokenized at once and
never kept), a masked number (its last four digits choose the test card), or a token the provider issued."""

from __future__ import annotations

import re

from shop.errors import ValidationFailedError
from shop.payments.charges import provider
from shop.payments.provider import CardToken, InvalidCardError
from shop.payments.schemas import FULL_CARD_PATTERN, MASKED_CARD_PATTERN

_FULL = re.compile(rf"^{FULL_CARD_PATTERN}$")
_MASKED = re.compile(rf"^{MASKED_CARD_PATTERN}$")


def card_for(card_no: str | None, payment_token: str | None) -> CardToken:
    """The provider's token for the card: exactly one of `card_no` (full or masked) and `payment_token`.

    Refusals are 422 VALIDATION_FAILED naming the field; the message never repeats the number.
    """
    if (card_no is None) == (payment_token is None):
        raise ValidationFailedError.of_field(
            "paymentInfo", "give exactly one of cardNo and paymentToken", "exactly_one_of"
        )
    try:
        if payment_token is not None:
            return provider().card_from_token(payment_token)
        assert card_no is not None
        if "*" in card_no:
            if not _MASKED.match(card_no):
                raise InvalidCardError("masked")
            return provider().test_card(card_no[-4:])
        if not _FULL.match(card_no):
            raise InvalidCardError("full")
        return provider().tokenize(card_no)
    except InvalidCardError:
        if payment_token is not None:
            raise ValidationFailedError.of_field(
                "paymentInfo.paymentToken", "not a payment token this provider issued", "invalid_token"
            ) from None
        raise ValidationFailedError.of_field(
            "paymentInfo.cardNo",
            "a card number of 13-19 digits, or a masked number ending in its last four digits",
            "invalid_card_number",
        ) from None
