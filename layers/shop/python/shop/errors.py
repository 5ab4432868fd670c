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


# ---------------------------------------------------------------- 404
class RouteNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "NOT_FOUND"
    default_message = "no such resource"


class ItemNotFoundError(ShopError):
    status = HTTPStatus.NOT_FOUND
    code = "ITEM_NOT_FOUND"
    default_message = "no such item"


# ---------------------------------------------------------------- 409
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


class WeakPasswordError(ShopError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "WEAK_PASSWORD"
    default_message = "the password does not meet the password policy"


# ---------------------------------------------------------------- 429
class TooManyRequestsError(ShopError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "TOO_MANY_REQUESTS"
    default_message = "too many requests; slow down and retry"
