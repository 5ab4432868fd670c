"""One exception type per error a client can see.

Each carries its HTTP status, a stable UPPER_SNAKE code, a human message and structured details; the
HTTP layer (shop.http) renders any of them as {"error": {"code", "message", "details"}}. Domain code
raises these by business meaning and never builds HTTP responses itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar


class ShopError(Exception):
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InternalError(ShopError):
    """Something failed on our side; the traceback is in the logs, never in the response."""


# ---------------------------------------------------------------- 400: the request cannot be read
class MalformedJsonError(ShopError):
    status = HTTPStatus.BAD_REQUEST
    code = "MALFORMED_JSON"
    default_message = "the request body is not valid JSON"


class UnsupportedContentTypeError(ShopError):
    status = HTTPStatus.BAD_REQUEST
    code = "UNSUPPORTED_CONTENT_TYPE"
    default_message = "the request body must be sent as application/json"


class PayloadTooLargeError(ShopError):
    status = HTTPStatus.BAD_REQUEST
    code = "PAYLOAD_TOO_LARGE"
    default_message = "the request body is too large"


class InvalidCursorError(ShopError):
    status = HTTPStatus.BAD_REQUEST
    code = "INVALID_CURSOR"
    default_message = "the cursor is invalid or was altered; start again without it"


# ---------------------------------------------------------------- 401 / 403
class UnauthorizedError(ShopError):
    status = HTTPStatus.UNAUTHORIZED
    code = "UNAUTHORIZED"
    default_message = "sign in to do this"


class InvalidCredentialsError(ShopError):
    status = HTTPStatus.UNAUTHORIZED
    code = "INVALID_CREDENTIALS"
    # One message whether the email is unknown or the password wrong: never reveal which accounts exist.
    default_message = "incorrect email or password"


class InvalidRefreshTokenError(ShopError):
    status = HTTPStatus.UNAUTHORIZED
    code = "INVALID_REFRESH_TOKEN"
    default_message = "the refresh token is invalid, expired or revoked; sign in again"


class ForbiddenError(ShopError):
    status = HTTPStatus.FORBIDDEN
    code = "FORBIDDEN"
    default_message = "you are not allowed to do this"


class EmailNotVerifiedError(ShopError):
    """A seller lists only with a verified email when the stack requires it (RequireVerifiedSellerEmail)."""

    status = HTTPStatus.FORBIDDEN
    code = "EMAIL_NOT_VERIFIED"
    default_message = (
        "verify your email address before you list items: POST /auth/verify-email with the code we sent "
        "(POST /auth/verify-email/resend sends a new one); if you just verified it, refresh your tokens"
    )


# ---------------------------------------------------------------- 404
class RouteNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "NOT_FOUND"
    default_message = "no such resource"


class ItemNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "ITEM_NOT_FOUND"
    default_message = "no such item"


class AccountDeletedError(ShopError):
    """The caller's token is still within its lifetime, but DELETE /me deleted the account."""

    status = HTTPStatus.UNAUTHORIZED
    code = "ACCOUNT_DELETED"
    default_message = "this account was deleted"


class AddressNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "ADDRESS_NOT_FOUND"
    default_message = "no such address"


# ---------------------------------------------------------------- 409
class TooManyAddressesError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "TOO_MANY_ADDRESSES"
    default_message = "the address book is full; delete an address first"


class DefaultAddressRequiredError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "DEFAULT_ADDRESS_REQUIRED"
    default_message = "one address must stay the default: make another address the default instead"


class ShippingCountryNotServedError(ShopError):
    """The default address is in a country the shop has no tax rate for (TaxRatesBps)."""

    status = HTTPStatus.CONFLICT
    code = "SHIPPING_COUNTRY_NOT_SERVED"
    default_message = "the shop does not ship to the default address's country; choose another default address"


class ProfileChangedError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "PROFILE_CHANGED"
    default_message = "the address book changed while this request ran; try again"


class EmailAlreadyRegisteredError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "EMAIL_ALREADY_REGISTERED"
    default_message = "an account with this email already exists"


class IdempotencyKeyReusedError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "this Idempotency-Key was already used with a different request body"


class RequestInProgressError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "REQUEST_IN_PROGRESS"
    default_message = "a request with this Idempotency-Key is still being processed; retry shortly"


# ---------------------------------------------------------------- 422
class ValidationFailedError(ShopError):
    """details = {"fields": [{"field", "message", "type"}, ...]}, one entry per offending field."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "VALIDATION_FAILED"
    default_message = "the request has invalid fields"

    @classmethod
    def of_field(cls, field: str, message: str, kind: str) -> ValidationFailedError:
        """One offending field, as the domain's own checks (beyond the schema) refuse them."""
        return cls(details={"fields": [{"field": field, "message": message, "type": kind}]})


class InvalidVerificationCodeError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "INVALID_VERIFICATION_CODE"
    default_message = "the verification code is wrong; check the latest email we sent, or ask for a new code"


class ExpiredVerificationCodeError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "EXPIRED_VERIFICATION_CODE"
    default_message = "the verification code has expired; ask for a new one (POST /auth/verify-email/resend)"


class WeakPasswordError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "WEAK_PASSWORD"
    default_message = "the password does not meet the password policy"


# ---------------------------------------------------------------- 429
class TooManyRequestsError(ShopError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "TOO_MANY_REQUESTS"
    default_message = "too many requests; slow down and retry"


# ---------------------------------------------------------------- 503
class ServiceBusyError(ShopError):
    """The store is busy or unreachable (throttled, a write in conflict, a fault): nothing was decided, and
    the same request (with the same Idempotency-Key where one is taken) may be sent again."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "SERVICE_BUSY"
    default_message = "the service is busy; retry the same request shortly"


class SearchUnavailableError(ShopError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "SEARCH_UNAVAILABLE"
    default_message = "search is temporarily unavailable; retry shortly"


class PaymentProviderUnavailableError(ShopError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "PAYMENT_PROVIDER_UNAVAILABLE"
    # Retrying is safe: the payment remembers where it stopped and the provider call is idempotent.
    default_message = "the payment provider is temporarily unavailable; retry shortly"


# ---------------------------------------------------------------- cart (shop.cart)
class CartNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "CART_NOT_FOUND"
    default_message = "no such cart"


class ItemUnavailableError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "ITEM_UNAVAILABLE"
    default_message = "this item is not on sale"


class CartConflictError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "CART_CONFLICT"
    default_message = "the cart kept changing while this request was applied; retry"


class PriceChangedError(ShopError):
    """details = the repriced cart {"lines", "totals", "currency", "previousTotal"}."""

    status = HTTPStatus.CONFLICT
    code = "PRICE_CHANGED"
    default_message = "prices in the cart changed; review the new total and check out again"


class OutOfStockError(ShopError):
    """details = {"itemId", "variantId", "requested", "available"}."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "OUT_OF_STOCK"
    default_message = "not enough units in stock"


class EmptyCartError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "EMPTY_CART"
    default_message = "the cart has no lines"


class CartFullError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "CART_FULL"
    default_message = "the cart has as many lines as it can hold"


class CurrencyMismatchError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "CURRENCY_MISMATCH"
    default_message = "this item is priced in a currency the cart does not take"


# ---------------------------------------------------------------- checkout, orders, payments
class IdempotencyKeyRequiredError(ShopError):
    status = HTTPStatus.BAD_REQUEST
    code = "IDEMPOTENCY_KEY_REQUIRED"
    default_message = "this request needs an Idempotency-Key header"


class AmountMismatchError(ShopError):
    """details = the server's breakdown {subtotal, tax, shipping, total, currency}."""

    status = HTTPStatus.CONFLICT
    code = "AMOUNT_MISMATCH"
    default_message = "the amount does not equal the cart's total; review the total and check out again"


class TooManyLinesError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "TOO_MANY_LINES"
    default_message = "too many different items to check out at once"


class OrderNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "ORDER_NOT_FOUND"
    default_message = "no such order"


class OrderNotCancellableError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "ORDER_NOT_CANCELLABLE"
    default_message = "the order can no longer be cancelled"


class PaymentNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "PAYMENT_NOT_FOUND"
    default_message = "no such payment"


class PaymentNotConfirmableError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "PAYMENT_NOT_CONFIRMABLE"
    default_message = "the payment is not waiting for confirmation"


class StockRowNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "VARIANT_NOT_FOUND"
    default_message = "the item has no such variant"


# ---------------------------------------------------------------- catalog: onboarding, compliance, imports
class VersionConflictError(ShopError):
    """details = {"itemId", "expectedVersion", "currentVersion"}: re-read the item and apply the change again."""

    status = HTTPStatus.CONFLICT
    code = "VERSION_CONFLICT"
    default_message = "the item changed since you read it; read it again and retry with its current version"


class DuplicateSkuError(ShopError):
    """details = {"sku", "itemId"}: the seller already lists an item with this SKU (compared case-insensitively)."""

    status = HTTPStatus.CONFLICT
    code = "DUPLICATE_SKU"
    default_message = "you already list an item with this SKU"


class BannedTermError(ShopError):
    """details = {"field", "term", "listVersion"}."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "BANNED_TERM"
    default_message = "the listing contains a term that is not allowed"


class PriceOutOfRangeError(ShopError):
    """details = {"field", "price", "category", "min", "max"} (minor units, inclusive)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "PRICE_OUT_OF_RANGE"
    default_message = "the price is outside the range allowed for its category"


class ImportNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "IMPORT_NOT_FOUND"
    default_message = "no such import"


# ---------------------------------------------------------------- catalog: images
class TooManyImagesError(ShopError):
    """details = {"itemId", "maxImages"}."""

    status = HTTPStatus.CONFLICT
    code = "TOO_MANY_IMAGES"
    default_message = "this item already has as many images as it can hold"


class ItemChangedError(ShopError):
    status = HTTPStatus.CONFLICT
    code = "ITEM_CHANGED"
    default_message = "the item kept changing while this request was applied; retry"


# ---------------------------------------------------------------- wishlist and notifications
class WishlistFullError(ShopError):
    """details = {"limit"}: remove an item before adding another."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "WISHLIST_FULL"
    default_message = "the wishlist holds as many items as it can; remove one first"


class NotificationNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "NOTIFICATION_NOT_FOUND"
    default_message = "no such notification"
