"""The HTTP edge every function shares: one resolver factory and the one mapping of errors to responses.

Every error a client sees is {"error": {"code", "message", "details"}}:
- ShopError subclasses (shop.errors) answer with their own status and code;
- field validation answers 422 VALIDATION_FAILED with details {"fields": [{"field", "message", "type"}]};
- a body that is not JSON (or not UTF-8 text), not sent as application/json, or over 64 KiB answers 400;
- DynamoDB busy or unreachable after botocore's own retries answers 503 SERVICE_BUSY with Retry-After;
- anything else unexpected answers 500 INTERNAL_ERROR and is logged with its traceback.

Every response, errors and refusals before routing included, carries SECURITY_HEADERS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from shop.dynamodb import transient
from shop.errors import (
    InternalError,
    MalformedJsonError,
    PayloadTooLargeError,
    RouteNotFoundError,
    ServiceBusyError,
    ShopError,
    UnauthorizedError,
    UnsupportedContentTypeError,
    ValidationFailedError,
)
from shop.identity import Caller, caller_from_claims
from shop.validation import field_name

logger = Logger(child=True)

# The edge (template.yaml, ApiWebAcl) refuses longer bodies with 413 before any function runs; this check is
# for a request that reaches the API without passing the edge. tests/unit/template keeps the two equal.
MAX_BODY_BYTES = 64 * 1024

# What every response of this JSON API carries. A route may set its own value of any of them (for example a
# page that needs another Content-Security-Policy); the defaults fill in the rest. The CloudFront response
# headers policy (template.yaml, ApiResponseHeadersPolicy) adds the same set to the answers API Gateway gives
# itself; tests/unit/template keeps the two equal.
SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",  # answers are per caller (carts, orders, tokens): no shared cache keeps them
}
_METHODS_WITH_BODY = frozenset({"POST", "PATCH", "PUT"})

# An Idempotency-Key header's value: 1 to 255 printable ASCII characters, no spaces.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"

# The OpenAPI security requirement of routes behind the Cognito JWT authorizer.
BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]


class ShopResolver(APIGatewayHttpResolver):
    """APIGatewayHttpResolver that refuses unreadable bodies before routing and validation run.

    powertools reads a body without a content type as JSON and validates before any middleware, so the
    content type and size checks happen here, ahead of it.
    """

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            _check_body(event)
        except ShopError as error:
            logger.info("request refused", extra={"code": error.code})
            return _proxy_response(int(error.status), error.body())
        return with_security_headers(super().resolve(event, context))


def with_security_headers(response: dict[str, Any]) -> dict[str, Any]:
    """The proxy response with SECURITY_HEADERS added, keeping any of them the route set itself."""
    headers: dict[str, Any] = response.setdefault("headers", {}) or {}
    present = {name.lower() for name in headers}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            headers[name] = value
    response["headers"] = headers
    return response


class NotModified(Exception):
    """The client's copy is current: answered 304 by the handler create_app registers, outside the response
    validation (which checks a 200's body; a 304 has none)."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


NOT_MODIFIED: OpenAPIResponse = {"description": "Unchanged since the ETag named in If-None-Match (no body)"}


def conditional(body: BaseModel, if_none_match: str | None, headers: Mapping[str, str] | None = None) -> Response[Any]:
    """A 200 with a strong ETag, a digest of the body as sent (so any change of it changes the tag), or
    NotModified when If-None-Match names that tag or "*" (the weak comparison of RFC 9110 13.1.2): a client
    polling for a change moves no body until there is one."""
    etag = '"' + hashlib.sha256(body.model_dump_json(by_alias=True).encode()).hexdigest()[:32] + '"'
    if if_none_match and ("*" in (named := {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")})
                          or etag in named):  # fmt: skip
        raise NotModified(etag)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body,
                    headers={"ETag": etag, **(headers or {})})  # fmt: skip


def create_app() -> ShopResolver:
    """The resolver every function uses: request validation from type hints, our error mapping."""
    app = ShopResolver(enable_validation=True, json_body_deserializer=_parse_json_object)
    app.configure_openapi(
        title="Marketplace API",
        security_schemes={
            "bearerAuth": HTTPBearer(
                bearerFormat="JWT",
                description="A Cognito access or ID token from POST /auth/login, checked by the JWT authorizer.",
            )
        },
    )

    def render_shop_error(error: ShopError) -> Response[Any]:
        return _error_response(error)

    def render_invalid_request(error: RequestValidationError) -> Response[Any]:
        return _error_response(_validation_failure(error.errors()))

    def render_unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
        return _error_response(UnsupportedContentTypeError())

    def render_no_route(error: NotFoundError) -> Response[Any]:
        event = app.current_event
        return _error_response(RouteNotFoundError(f"no route for {event.http_method} {event.path}"))

    def render_unexpected(error: Exception) -> Response[Any]:
        if transient(error):
            logger.warning("DynamoDB busy or unavailable", extra={"error": repr(error)})
            response = _error_response(ServiceBusyError())
            response.headers["Retry-After"] = "1"
            return response
        logger.exception("unhandled error")
        return _error_response(InternalError(details={"requestId": app.current_event.request_context.request_id}))

    def render_not_modified(answer: NotModified) -> Response[None]:
        return Response(status_code=304, headers={"ETag": answer.etag})

    # Handlers are looked up along the exception's MRO, so Exception only catches what nothing else does.
    app.exception_handler_manager.update_exception_handlers(
        {
            NotModified: render_not_modified,
            ShopError: render_shop_error,
            RequestValidationError: render_invalid_request,
            RequestUnsupportedContentType: render_unsupported_content_type,
            NotFoundError: render_no_route,
            Exception: render_unexpected,
        }
    )
    return app


def _error_response(error: ShopError) -> Response[Any]:
    return Response(status_code=int(error.status), content_type=content_types.APPLICATION_JSON, body=error.body())


def created(body: BaseModel, location: str | None = None) -> Response[Any]:
    """201 Created with the new resource and, when it has a URL, where to find it."""
    return Response(
        status_code=int(HTTPStatus.CREATED),
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Location": location} if location else None,
    )


def _proxy_response(status: int, body: Any) -> dict[str, Any]:
    """A complete API Gateway proxy response, for answers given before the resolver runs."""
    return with_security_headers(
        {
            "statusCode": int(status),
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(body, separators=(",", ":")),
            "isBase64Encoded": False,
        }
    )


def authenticated_caller(app: APIGatewayHttpResolver) -> Caller:
    """The signed-in caller of the current request; 401 when the JWT authorizer passed no claims."""
    claims: Any = app.current_event.raw_event
    for key in ("requestContext", "authorizer", "jwt", "claims"):
        claims = claims.get(key) if isinstance(claims, Mapping) else None
    caller = caller_from_claims(claims) if isinstance(claims, Mapping) else None
    if caller is None:
        raise UnauthorizedError()
    return caller


VISITOR_HEADER = "x-visitor-id"
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def visitor(app: APIGatewayHttpResolver) -> str | None:
    """Who a behaviour event is about: the signed-in caller's id where the route has the JWT authorizer, else
    the client's own opaque X-Visitor-Id (8-64 of [A-Za-z0-9_-], like a first-party cookie id) on the public
    routes, else None. Only recommendations read it; it never authorises anything."""
    try:
        return authenticated_caller(app).user_id
    except UnauthorizedError:
        return anonymous_visitor(app)


def anonymous_visitor(app: APIGatewayHttpResolver) -> str | None:
    """The client's X-Visitor-Id as behaviour events name it (`visitor_<id>`), signed in or not; None when
    absent or malformed."""
    given = _header(app.current_event.raw_event, VISITOR_HEADER)
    return f"visitor_{given}" if given and _VISITOR_ID.match(given) else None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorDetail


def documented_responses(
    status: int,
    description: str,
    errors: Iterable[int],
    headers: Mapping[str, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a route: its success (schema from the return type) and its error statuses."""
    success: OpenAPIResponse = {"description": description}
    if headers:
        success["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    responses = {status: success}
    for error_status in errors:
        responses[error_status] = {
            "description": HTTPStatus(error_status).phrase,
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    return responses


# ---------------------------------------------------------------- request checks
def _check_body(event: Mapping[str, Any]) -> None:
    body = event.get("body")
    if not body:
        return
    if _body_size(body, base64_encoded=bool(event.get("isBase64Encoded"))) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(
            f"the request body must not exceed {MAX_BODY_BYTES} bytes", details={"maxBytes": MAX_BODY_BYTES}
        )
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method in _METHODS_WITH_BODY and not _is_json(_header(event, "content-type")):
        raise UnsupportedContentTypeError(details={"contentType": _header(event, "content-type")})
    if event.get("isBase64Encoded") and not _is_utf8(body):
        # API Gateway base64-encodes a body that is not text; JSON is UTF-8 text (RFC 8259), so it is unreadable.
        raise MalformedJsonError("the request body is not valid UTF-8 text")


def _is_utf8(encoded: str) -> bool:
    try:
        base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return False
    return True


def _body_size(body: str, *, base64_encoded: bool) -> int:
    if base64_encoded:
        return len(body.rstrip("=")) * 3 // 4
    return len(body.encode("utf-8", errors="surrogatepass"))


def _header(event: Mapping[str, Any], name: str) -> str | None:
    # HTTP APIs send header names in lower case; other sources (tests, tools) may not.
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == "application/json"


def _parse_json_object(text: str) -> dict[str, Any]:
    """Every request body of this API is a JSON object; standard JSON only (no NaN or Infinity)."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_json_number)
    except RecursionError:
        raise json.JSONDecodeError("nesting too deep", text, 0) from None
    if not isinstance(value, dict):
        raise RequestValidationError(
            [{"type": "model_type", "loc": ("body",), "msg": "Input should be a JSON object", "input": None}]
        )
    return value


def _json_number(literal: str) -> int | float:
    """A JSON number with a fraction or exponent: an int when its value is whole (2.0, 1e3), as JSON Schema
    counts it an integer; so what the document calls an integer, strict validation takes as one. DynamoDB
    stores 2 and 2.0 alike, so nothing changes for fields that take any number."""
    value = float(literal)
    return int(value) if value.is_integer() else value


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


# ---------------------------------------------------------------- validation errors
def _validation_failure(errors: Iterable[Mapping[str, Any]]) -> ShopError:
    errors = list(errors)
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error")
            return MalformedJsonError(details={"reason": reason} if reason else None)
    fields: dict[str, dict[str, str]] = {}
    for error in errors:
        field = field_name(error.get("loc", ()))
        # One entry per field: the first problem found is the one to fix first.
        fields.setdefault(field, {"field": field, "message": str(error.get("msg", "")), "type": str(error["type"])})
    return ValidationFailedError(details={"fields": list(fields.values())})
