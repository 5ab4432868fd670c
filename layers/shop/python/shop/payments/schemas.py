"""What a customer reads back about a payment they confirmed, and the forms a card arrives in."""

from __future__ import annotations

from shop.validation import ViewModel

# A full card number: 13-19 digits, single spaces allowed between them. No Luhn check: the provider
# validates the number, and only a well-formed number is worth sending to it (docs/checkout.md).
FULL_CARD_PATTERN = r"\d(?: ?\d){12,18}"
# A masked number (what a checkout page shows once the provider holds the card): 13-19 characters of `*`
# and digits in groups, single spaces between them, ending in the last four digits, e.g. **** **** **** 1234.
MASKED_CARD_PATTERN = r"[*\d](?: ?[*\d]){8,14} ?\d{4}"
# A card number in either form (a number without `*` is a full one).
CARD_NUMBER_PATTERN = rf"^(?:{FULL_CARD_PATTERN}|{MASKED_CARD_PATTERN})$"
# A token the provider issued for a card (the local provider's: tok_local_<last four>_<16 hex digits>).
PAYMENT_TOKEN_PATTERN = r"^tok_[A-Za-z0-9_]{4,120}$"  # noqa: S105 (a pattern, not a secret)


class PaymentView(ViewModel):
    payment_id: str
    order_id: str
    status: str
    amount: int
    currency: str
