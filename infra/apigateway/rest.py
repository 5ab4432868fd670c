"""A REST API (API Gateway v1) in front of the function workers, as a plain ASGI app on a port of its own.

The stage is the first path segment, as on AWS (`/Prod/hello`), so a template's output URL
`https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/` works once its host is the
local one (infra.cloud rewrites it). Per request, in API Gateway's order: the stage (unknown: 403 Forbidden),
the stage's throttling, the 10 MB body limit, method selection (none: 403 Missing Authentication Token), the
method's authorizer (Cognito user pool, Lambda TOKEN or REQUEST), then the integration: a Lambda proxy with
payload format 1.0 (event built here, response mapped back; a function error or a malformed answer is 502),
or a mock (SAM's CORS preflight methods). What is not served is listed in models.REST_API_NOT_SERVED.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl, unquote

import jwt
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from infra.apigateway.authorizer import JwtVerifier, Unauthorized
from infra.apigateway.gateway import (
    MAX_BODY_BYTES,
    AsgiGateway,
    BodyTooLarge,
    Headers,
    Receive,
    RequestClock,
    Router,
    Scope,
    Send,
    read_body,
)
from infra.apigateway.models import JwtAuthorizer, MockResponse, RestApiSpec, RestAuthorizer, RestMethod
from infra.apigateway.throttle import TokenBuckets
from infra.awslambda.workers import FunctionNotFound, FunctionRuntime
from infra.core.aws import ACCOUNT_ID, REGION

log = logging.getLogger("infra.apigateway")

ORIGINAL_HEADERS = "original_headers"  # the scope key CasePreservingProtocol fills
_JSON = (b"content-type", b"application/json")
_POLICY_CACHE_SIZE = 4096  # Lambda authorizer answers kept (API Gateway's cache is per stage and bounded too)


class CasePreservingProtocol(HttpToolsProtocol):
    """uvicorn lower-cases header names; payload format 1.0 hands them to the function as the client sent them,
    so the names as received are kept in the scope too (`scope["original_headers"]`)."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        cast(dict[str, Any], self.scope)[ORIGINAL_HEADERS] = []

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        cast(dict[str, Any], self.scope)[ORIGINAL_HEADERS].append((name, value))


class MalformedResponse(ValueError):
    """The function's answer is not a Lambda proxy response of payload format 1.0: API Gateway answers 502."""


class _Answer(Exception):
    """A response API Gateway gives on its own, with its x-amzn-ErrorType."""

    def __init__(self, status: int, body: dict[str, Any], error_type: str, function: str = "-") -> None:
        super().__init__(error_type)
        self.status, self.body, self.error_type, self.function = status, body, error_type, function

    @classmethod
    def unauthorized(cls, function: str = "-") -> _Answer:
        return cls(401, {"message": "Unauthorized"}, "UnauthorizedException", function)

    @classmethod
    def denied(cls, explicit: bool, function: str = "-") -> _Answer:
        text = "User is not authorized to access this resource" + (" with an explicit deny" if explicit else "")
        return cls(403, {"Message": text}, "AccessDeniedException", function)

    @classmethod
    def authorizer_failed(cls, function: str = "-") -> _Answer:
        return cls(500, {"message": None}, "AuthorizerConfigurationException", function)

    @classmethod
    def internal(cls, status: int = 502, function: str = "-") -> _Answer:
        return cls(status, {"message": "Internal server error"}, "InternalServerErrorException", function)


@dataclass(slots=True)
class _Request:
    scope: Scope
    request_id: str
    stage: str
    path: str  # without the stage: "/hello"
    source_ip: str
    headers: dict[str, str]  # as the client named them; a repeated header's last value
    multi_headers: dict[str, list[str]]
    query: dict[str, str]
    multi_query: dict[str, list[str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class _Policy:
    """What a Lambda authorizer answered, as the policy cache keeps it."""

    principal_id: str
    statements: tuple[Mapping[str, Any], ...]
    context: dict[str, Any]
    expires: float


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_effect(statements: tuple[Mapping[str, Any], ...], method_arn: str) -> str | None:
    """The policy's effect on the method ARN: "Deny" if a statement denies execute-api:Invoke on it, else
    "Allow" if one allows it, else None (IAM's evaluation: an explicit deny wins; * and ? are wildcards)."""
    effects = set()
    for statement in statements:
        actions = [str(action).lower() for action in _as_list(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase("execute-api:invoke", action) for action in actions):
            continue
        if any(fnmatch.fnmatchcase(method_arn, str(resource)) for resource in _as_list(statement.get("Resource", []))):
            effects.add(str(statement.get("Effect", "")))
    return "Deny" if "Deny" in effects else "Allow" if "Allow" in effects else None


def _stringified(context: Any) -> dict[str, str]:
    """The authorizer's context as the function gets it: every value a string (nested values are refused)."""
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ValueError("context must be an object")
    rendered = {}
    for key, value in context.items():
        if isinstance(value, bool):
            rendered[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            rendered[key] = str(value)
        else:
            raise ValueError(f"context value {key!r} must be a string, number or boolean")
    return rendered


def cognito_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """requestContext.authorizer.claims: strings; lists comma-joined; exp and iat as dates, as API Gateway has."""
    rendered = {}
    for key, value in claims.items():
        if key in ("exp", "iat") and isinstance(value, int | float):
            rendered[key] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        elif isinstance(value, list):
            rendered[key] = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            rendered[key] = "true" if value else "false"
        else:
            rendered[key] = str(value)
    return rendered


class RestGateway(AsgiGateway):
    def __init__(self, api: RestApiSpec, runtime: FunctionRuntime, verifier: JwtVerifier) -> None:
        self.api = api
        self.runtime = runtime
        self.verifier = verifier
        self.router: Router[RestMethod] = Router(api.methods)
        self.buckets = TokenBuckets(api.throttle.rate_per_second, api.throttle.burst) if api.throttle else None
        self._policies: dict[tuple[str, tuple[str, ...]], _Policy] = {}
        self._clock = RequestClock()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        try:
            status, headers, body, function = await self._handle(scope, receive, request_id)
        except _Answer as answer:
            status, function, body = answer.status, answer.function, json.dumps(answer.body).encode()
            headers = [_JSON, (b"x-amzn-ErrorType", answer.error_type.encode())]
        except BodyTooLarge:
            status, function, body = 413, "-", json.dumps({"message": "Request Entity Too Large"}).encode()
            headers = [_JSON]
        except Exception:
            log.exception("REST API %s failed on %s %s", self.api.logical_id, scope["method"], scope["path"])
            status, function, body = 500, "-", json.dumps({"message": "Internal server error"}).encode()
            headers = [_JSON]
        headers.append((b"x-amzn-RequestId", request_id.encode()))
        headers.append((b"x-amz-apigw-id", base64.b64encode(uuid.uuid4().bytes[:11]).decode().encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        latency_ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.2fms %s %s", scope["method"], scope["path"], status, latency_ms, request_id, function)

    def _parse(self, scope: Scope, request_id: str) -> _Request:
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else str(scope["path"])
        stage, _, rest = raw_path.lstrip("/").partition("/")
        if stage not in self.api.stages:
            raise _Answer(403, {"message": "Forbidden"}, "ForbiddenException")
        path = "/" + rest.rstrip("/")  # API Gateway ignores a trailing slash
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for raw_name, raw_value in scope.get(ORIGINAL_HEADERS) or scope["headers"]:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
            query[key] = value
            multi_query.setdefault(key, []).append(value)
        client = scope.get("client")
        source_ip = client[0] if client else "127.0.0.1"
        return _Request(scope, request_id, stage, path, source_ip, headers, multi_headers, query, multi_query)

    async def _handle(self, scope: Scope, receive: Receive, request_id: str) -> tuple[int, Headers, bytes, str]:
        request = self._parse(scope, request_id)
        if self.buckets is not None and self.buckets.take(request.source_ip):
            raise _Answer(429, {"message": "Too Many Requests"}, "ThrottledException")
        length = request.header("content-length") or ""
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise BodyTooLarge()
        request.body = await read_body(receive)
        matched = self.router.match(scope["method"], unquote(request.path), request.path)
        if matched is None:
            raise _Answer(403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
        method, path_params = matched
        function = method.function_name or "-"
        authorizer: dict[str, Any] | None = None
        if method.authorizer is not None:
            authorizer = await self._authorize(request, method, path_params)
        if method.mock is not None:
            return (*_mock_response(method.mock), "-")
        if method.not_served:
            log.warning("%s %s of REST API %s: %s", method.method, method.path, self.api.logical_id, method.not_served)
            raise _Answer.internal(500)
        event = self.event(request, method, path_params, authorizer)
        try:
            result = await self.runtime.invoke(method.function_name, json.dumps(event).encode())
        except FunctionNotFound:
            log.error("%s %s targets %s, not a function of this stack", method.method, method.path, function)
            raise _Answer.internal(500, function) from None
        if result.function_error is not None:
            raise _Answer.internal(502, function)
        try:
            return (*_map_response(result.payload), function)
        except (MalformedResponse, json.JSONDecodeError) as error:
            log.warning("%s returned a malformed Lambda proxy response: %s", function, error)
            raise _Answer.internal(502, function) from None

    # -- authorizers ------------------------------------------------------------------------------------
    def method_arn(self, request: _Request) -> str:
        return (f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{self.api.api_id}/{request.stage}/"
                f"{request.scope['method']}{request.path}")  # fmt: skip

    def _identity(self, request: _Request, authorizer: RestAuthorizer) -> tuple[str, ...] | None:
        values = []
        for kind, name in authorizer.identity_sources:
            if kind == "header":
                value = request.header(name)
            elif kind == "querystring":
                value = request.query.get(name)
            elif kind == "stageVariables":
                value = self.api.stages[request.stage].get(name)
            else:
                value = {"httpMethod": request.scope["method"], "requestId": request.request_id,
                         "stage": request.stage, "path": request.path}.get(name)  # fmt: skip
            if not value:
                return None
            values.append(value)
        return tuple(values)

    async def _authorize(self, request: _Request, method: RestMethod, path_params: dict[str, str]) -> dict[str, Any]:
        authorizer = method.authorizer
        assert authorizer is not None
        identity = self._identity(request, authorizer)
        if identity is None:  # an identity source is missing or empty: 401 before any authorizer runs
            raise _Answer.unauthorized()
        if authorizer.type == "cognito_user_pools":
            return {"claims": await self._cognito(identity[0], authorizer, method.authorization_scopes)}
        expression = authorizer.validation_expression
        if authorizer.type == "token" and expression and re.fullmatch(expression, identity[0]) is None:
            raise _Answer.unauthorized()
        method_arn = self.method_arn(request)
        key = (authorizer.name, identity)
        policy = self._policies.get(key)
        if policy is None or policy.expires <= time.monotonic():
            started = time.perf_counter()
            policy = await self._invoke_authorizer(request, method, path_params, identity, method_arn)
            latency = int((time.perf_counter() - started) * 1000)
            if authorizer.ttl_seconds > 0 and identity:
                if len(self._policies) >= _POLICY_CACHE_SIZE:
                    self._policies.clear()
                self._policies[key] = policy
        else:
            latency = 0
        effect = policy_effect(policy.statements, method_arn)
        if effect != "Allow":
            raise _Answer.denied(explicit=effect == "Deny", function=authorizer.function_name)
        return {**policy.context, "principalId": policy.principal_id, "integrationLatency": latency}

    async def _cognito(self, token: str, authorizer: RestAuthorizer, scopes: tuple[str, ...]) -> dict[str, str]:
        try:
            issuer = str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
        except jwt.PyJWTError:
            raise _Answer.unauthorized() from None
        if issuer not in authorizer.issuers:
            raise _Answer.unauthorized()
        try:
            verified = await self.verifier.verify(token, JwtAuthorizer(authorizer.name, issuer, None), scopes)
        except Unauthorized:
            raise _Answer.unauthorized() from None
        return cognito_claims(verified.claims)

    async def _invoke_authorizer(
        self,
        request: _Request,
        method: RestMethod,
        path_params: dict[str, str],
        identity: tuple[str, ...],
        method_arn: str,
    ) -> _Policy:
        authorizer = method.authorizer
        assert authorizer is not None
        if authorizer.type == "token":
            event: dict[str, Any] = {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": method_arn}
        else:
            event = {"type": "REQUEST", "methodArn": method_arn, **self.event(request, method, path_params, None)}
        name = authorizer.function_name
        try:
            result = await self.runtime.invoke(name, json.dumps(event).encode())
        except FunctionNotFound:
            log.error("authorizer %s names %s, not a function of this stack", authorizer.name, name)
            raise _Answer.authorizer_failed(name) from None
        if result.function_error is not None:
            error = json.loads(result.payload or b"{}") if result.payload[:1] == b"{" else {}
            if error.get("errorMessage") == "Unauthorized":  # the documented way to answer 401
                raise _Answer.unauthorized(name)
            raise _Answer.authorizer_failed(name)
        try:
            answer = json.loads(result.payload)
            statements = answer["policyDocument"]["Statement"]
            return _Policy(
                principal_id=str(answer["principalId"]),
                statements=tuple(_as_list(statements)),
                context=_stringified(answer.get("context")),
                expires=time.monotonic() + authorizer.ttl_seconds,
            )
        except (ValueError, KeyError, TypeError) as error:
            log.warning("authorizer %s answered no valid policy: %s", name, error)
            raise _Answer.authorizer_failed(name) from None

    # -- payload format 1.0 -----------------------------------------------------------------------------
    def event(
        self, request: _Request, method: RestMethod, path_params: dict[str, str], authorizer: dict[str, Any] | None
    ) -> dict[str, Any]:
        scope = request.scope
        # Like API Gateway, add the forwarding headers the function may rely on (replacing the client's).
        forwarded = request.header("x-forwarded-for")
        server = scope.get("server")
        added = {
            "X-Forwarded-For": f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip,
            "X-Forwarded-Port": str(server[1]) if server else "80",
            "X-Forwarded-Proto": scope.get("scheme", "http"),
        }
        names = {name.lower() for name in added}
        headers = [(name, value) for name, values in request.multi_headers.items() if name.lower() not in names
                   for value in values]  # fmt: skip
        body = request.body
        binary = bool(body) and self._is_binary(request.header("content-type"))
        return payload_v1_event(
            method=scope["method"], path=request.path, resource=method.path, stage=request.stage,
            api_id=self.api.api_id, headers=[*headers, *added.items()],
            query=[(key, value) for key, values in request.multi_query.items() for value in values],
            path_params=path_params, stage_variables=self.api.stages.get(request.stage),
            source_ip=request.source_ip, request_id=request.request_id, when=self._clock.now(),
            body=(base64.b64encode(body).decode() if binary else body.decode("utf-8", "replace")) if body else None,
            is_base64=binary, authorizer=authorizer, protocol=f"HTTP/{scope.get('http_version', '1.1')}",
        )  # fmt: skip

    def _is_binary(self, content_type: str | None) -> bool:
        """REST APIs pass a body base64-encoded only when its type is one of the API's binary media types."""
        media = (content_type or "").split(";", 1)[0].strip().lower()
        return any(fnmatch.fnmatchcase(media, pattern.lower()) for pattern in self.api.binary_media_types)


def payload_v1_event(
    *,
    method: str,
    path: str,
    resource: str,
    stage: str,
    api_id: str,
    headers: Sequence[tuple[str, str]],
    query: Sequence[tuple[str, str]],
    path_params: Mapping[str, str],
    stage_variables: Mapping[str, str] | None,
    source_ip: str,
    request_id: str,
    when: tuple[str, int],
    body: str | None,
    is_base64: bool,
    authorizer: Mapping[str, Any] | None,
    protocol: str = "HTTP/1.1",
) -> dict[str, Any]:
    """The Lambda proxy event of payload format 1.0: headers as named (a repeated one's last value in
    `headers`, all in `multiValueHeaders`), the query likewise, `path` without the stage, null where AWS has
    null. `when` is requestContext's (requestTime, requestTimeEpoch)."""
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in query:
        single_query[key] = value
        multi_query.setdefault(key, []).append(value)
    host = next((value for name, value in headers if name.lower() == "host"), "localhost")
    user_agent = next((value for name, value in headers if name.lower() == "user-agent"), None)
    context: dict[str, Any] = {
        "resourceId": hashlib.sha256(resource.encode()).hexdigest()[:6],
        "resourcePath": resource,
        "httpMethod": method,
        "extendedRequestId": request_id,
        "requestTime": when[0],
        "path": f"/{stage}{path}",
        "accountId": ACCOUNT_ID,
        "protocol": protocol,
        "stage": stage,
        "domainPrefix": host.split(".", 1)[0],
        "requestTimeEpoch": when[1],
        "requestId": request_id,
        "identity": {
            "cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None, "caller": None,
            "sourceIp": source_ip, "principalOrgId": None, "accessKey": None, "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None, "userArn": None, "userAgent": user_agent, "user": None,
        },
        "domainName": host,
        "apiId": api_id,
    }  # fmt: skip
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_params) or None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _mock_response(mock: MockResponse) -> tuple[int, Headers, bytes]:
    headers = [_JSON, *((name.encode("latin-1"), value.encode("latin-1")) for name, value in mock.headers)]
    return mock.status, headers, mock.body.encode()


def _map_response(payload: bytes) -> tuple[int, Headers, bytes]:
    """Payload format 1.0: statusCode, headers, multiValueHeaders, body, isBase64Encoded; anything else is
    malformed (MalformedResponse), which API Gateway answers 502."""
    data = json.loads(payload) if payload[:1] == b"{" else None
    if not isinstance(data, dict) or "statusCode" not in data:
        raise MalformedResponse("no statusCode")
    status = data["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is not an HTTP status")
    merged: dict[str, list[str]] = {}
    single, multi = data.get("headers") or {}, data.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers and multiValueHeaders must be objects")
    for name, value in single.items():
        merged.setdefault(str(name), []).append(_header_text(value))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders {name!r} must be a list")
        target = merged.setdefault(str(name), [])
        target.extend(text for text in map(_header_text, values) if text not in target)
    headers: Headers = [(name.encode("latin-1"), value.encode("latin-1", "replace"))
                        for name, values in merged.items() for value in values]  # fmt: skip
    if not any(name.lower() == b"content-type" for name, _ in headers):
        headers.append(_JSON)
    body = data.get("body")
    if body is None:
        return status, headers, b""
    if not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    if data.get("isBase64Encoded"):
        try:
            return status, headers, base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise MalformedResponse(f"body is not base64: {error}") from None
    return status, headers, body.encode()


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise MalformedResponse(f"header value {value!r} must be a string")
    return str(value)


def create_rest_api_app(api: RestApiSpec, runtime: FunctionRuntime, verifier: JwtVerifier) -> RestGateway:
    """The ASGI app of one REST API; serve it with `http=CasePreservingProtocol` so headers keep their case."""
    return RestGateway(api, runtime, verifier)
