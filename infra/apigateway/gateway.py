"""The HTTP API gateway: API Gateway v2 (HTTP API) in front of the function workers, as a plain ASGI app.

Per request, first the edge the template puts in front of the API on AWS (infra.apigateway.edge: the web
ACL's body limit and its rate limits per client address), then in API Gateway's order: the stage's
throttling (a token bucket per client IP), the 10 MB body limit, CORS preflight, route selection, the
route's JWT authorizer (then the web ACL's per-caller limit, keyed on the verified token's `sub`), then the
Lambda proxy integration with payload format 2.0 (event built here, response mapped back). Every response,
the gateway's own answers included, gets the response headers policy's headers. The local GET routes
the cloud hands over (`/health`, `/_local/events`: path -> async handler of the query) and its local
actions (other methods, e.g. `POST /_local/faults`: "METHOD path" -> async handler of the query and the
body) are answered by the gateway itself, never throttled and never routed to a function; a handler's
ValueError is a 400. Every response carries `apigw-requestid`. With a static site (infra.apigateway.static:
the storefront's built files, which CloudFront serves from S3 on AWS), a GET or HEAD that no route matches
and that names one of its files or pages is answered from it, before the edge and the throttle, as by another
distribution; anything else keeps the API's answer.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, unquote

from infra.apigateway.authorizer import JwtVerifier, Unauthorized
from infra.apigateway.edge import Edge, EdgeRequest, Refusal
from infra.apigateway.models import HttpApiSpec, Route
from infra.apigateway.static import StaticSite
from infra.apigateway.throttle import TokenBuckets
from infra.awslambda.workers import FunctionNotFound, FunctionRuntime
from infra.core.aws import ACCOUNT_ID, Endpoints

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
LocalRoute = Callable[[Mapping[str, str]], Awaitable[Any]]  # the query -> a JSON-serialisable answer
LocalAction = Callable[[Mapping[str, str], bytes], Awaitable[Any]]  # the query and the body -> an answer

log = logging.getLogger("infra.apigateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload quota
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
_JSON = [(b"content-type", b"application/json")]


# ------------------------------------------------------------------------------------------------ routes


class Routable(Protocol):
    """What route selection reads of a route: an HTTP API's Route, a REST API's RestMethod."""

    @property
    def method(self) -> str: ...  # upper case, or "ANY"

    @property
    def path(self) -> str: ...  # "/items/{itemId}", "/{proxy+}"


R = TypeVar("R", bound=Routable)


@dataclass(frozen=True)
class _Pattern(Generic[R]):
    route: R
    parts: tuple[tuple[int, str], ...]  # (kind, literal or parameter name); kinds below

    LITERAL, PARAM, GREEDY = 0, 1, 2

    @property
    def specificity(self) -> tuple[tuple[int, ...], bool]:
        # Literal segments beat {param}, which beats {proxy+}, position by position; a method beats ANY.
        return tuple(kind for kind, _ in self.parts), self.route.method == "ANY"

    def match(self, segments: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for index, (kind, value) in enumerate(self.parts):
            if kind == _Pattern.GREEDY:
                rest = segments[index:]
                if not rest or rest == [""]:
                    return None
                params[value] = unquote("/".join(rest))
                return params
            if index >= len(segments):
                return None
            segment = segments[index]
            if kind == _Pattern.LITERAL:
                if unquote(segment) != value:
                    return None
            elif not segment:
                return None
            else:
                params[value] = unquote(segment)
        return params if len(segments) == len(self.parts) else None


class Router(Generic[R]):
    """API Gateway's route selection: exact routes first, then the most specific parameterised one."""

    def __init__(self, routes: list[R]) -> None:
        self._exact: dict[str, dict[str, R]] = {}
        patterns: list[_Pattern[R]] = []
        for route in routes:
            parts = []
            for segment in route.path.strip("/").split("/") if route.path != "/" else []:
                if segment.startswith("{") and segment.endswith("+}"):
                    parts.append((_Pattern.GREEDY, segment[1:-2]))
                elif segment.startswith("{") and segment.endswith("}"):
                    parts.append((_Pattern.PARAM, segment[1:-1]))
                else:
                    parts.append((_Pattern.LITERAL, segment))
            if all(kind == _Pattern.LITERAL for kind, _ in parts):
                self._exact.setdefault(route.path, {})[route.method] = route
            else:
                patterns.append(_Pattern(route, tuple(parts)))
        self._patterns = sorted(patterns, key=lambda p: p.specificity)

    def match(self, method: str, path: str, raw_path: str) -> tuple[R, dict[str, str]] | None:
        methods = self._exact.get(path)
        if methods is not None:
            route = methods.get(method) or methods.get("ANY")
            if route is not None:
                return route, {}
        segments = raw_path.split("/")[1:]
        for pattern in self._patterns:
            if pattern.route.method not in (method, "ANY"):
                continue
            params = pattern.match(segments)
            if params is not None:
                return pattern.route, params
        return None


# ------------------------------------------------------------------------------------------------ event


def is_text(content_type: str | None) -> bool:
    """Bodies of these types reach the function as text; anything else is base64-encoded."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def new_request_id() -> str:
    # API Gateway's look: 11 random bytes in base64, e.g. "Mc7UVioPPHcEKPA=".
    return base64.b64encode(os.urandom(11)).decode()


class RequestClock:
    """requestContext.time in API Gateway's format, computed once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> tuple[str, int]:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
        return self._text, int(now * 1000)


# ------------------------------------------------------------------------------------------------ app


class _Malformed(Exception):
    """The function's answer is not a valid payload 2.0 response."""


Headers = list[tuple[bytes, bytes]]


class _Reply(Exception):
    """A response the gateway gives on its own (404, 401, 429, ...), raised from anywhere in the pipeline."""

    def __init__(self, status: int, message: str, headers: Headers | None = None, function: str = "-") -> None:
        super().__init__(message)
        self.status = status
        self.headers = [*_JSON, *(headers or [])]
        self.body = json.dumps({"message": message}).encode()
        self.function = function

    @classmethod
    def refused_at_edge(cls, refusal: Refusal, function: str = "-") -> _Reply:
        reply = cls(refusal.status, refusal.rule, function=function)
        reply.headers, reply.body = list(refusal.headers), refusal.body
        return reply


class BodyTooLarge(_Reply):
    """A request body beyond the limit read_body was given: 413."""

    def __init__(self) -> None:
        super().__init__(413, "Request Entity Too Large")


@dataclass(slots=True)
class _Request:
    scope: Scope
    request_id: str
    source_ip: str
    headers: dict[str, str]  # lower-case names, repeated headers joined with ","
    cookies: list[str]
    body: bytes = b""

    @classmethod
    def parse(cls, scope: Scope, request_id: str) -> _Request:
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "cookie":  # API Gateway moves cookies to their own field
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
            elif name in headers:
                headers[name] = f"{headers[name]},{value}"
            else:
                headers[name] = value
        client = scope.get("client")
        return cls(scope, request_id, client[0] if client else "127.0.0.1", headers, cookies)

    @property
    def raw_path(self) -> str:
        raw = self.scope.get("raw_path")
        return raw.decode("latin-1") if raw else str(self.scope["path"])

    def edge_view(self) -> EdgeRequest:
        return EdgeRequest(str(self.scope["method"]), self.raw_path, self.headers, self.source_ip)


class AsgiGateway:
    """What the HTTP API's and the REST API's gateways share as ASGI apps: each HTTP request goes to _http, and
    the server's shutdown (the lifespan protocol) closes the JWT verifier."""

    verifier: JwtVerifier

    async def aclose(self) -> None:
        await self.verifier.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await lifespan(receive, send, self.aclose)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class Gateway(AsgiGateway):
    def __init__(
        self,
        api: HttpApiSpec,
        runtime: FunctionRuntime,
        endpoints: Endpoints,
        local_routes: Mapping[str, LocalRoute],
        verifier: JwtVerifier | None = None,
        *,
        local_actions: Mapping[str, LocalAction] | None = None,
        edge: Edge | None = None,
        static: StaticSite | None = None,
    ) -> None:
        self.api = api
        self.static = static
        self.edge = edge
        self.runtime = runtime
        self.endpoints = endpoints
        self.local_routes = dict(local_routes)
        self.local_actions = dict(local_actions or {})
        self.router = Router(api.routes)
        self.verifier = verifier or JwtVerifier(endpoints)
        self.buckets = TokenBuckets(api.throttle.rate_per_second, api.throttle.burst) if api.throttle else None
        self.cors_origins = frozenset(api.cors_allow_origins)
        self._clock = RequestClock()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = new_request_id()
        method: str = scope["method"]
        path: str = scope["path"]
        origin = None
        if self.static is not None and await self._static(scope, send):
            log.info("%s %s static %.2fms", method, path, (time.perf_counter() - started) * 1000)
            return
        try:
            local = self.local_routes.get(path) if method == "GET" else None
            action = self.local_actions.get(f"{method} {path}") if local is None and self.local_actions else None
            if local is not None:
                status, headers, body, function = 200, list(_JSON), await self._local(local, scope), "-"
            elif action is not None:
                request_body = await read_body(receive)
                answer = await self._local(lambda query: action(query, request_body), scope)
                status, headers, body, function = 200, list(_JSON), answer, "-"
            else:
                request = _Request.parse(scope, request_id)
                origin = request.headers.get("origin")
                status, headers, body, function = await self._handle(request, receive)
        except _Reply as reply:
            status, headers, body, function = reply.status, reply.headers, reply.body, reply.function
        except Exception:
            log.exception("gateway failure on %s %s", method, path)
            failure = _Reply(500, "Internal Server Error")
            status, headers, body, function = failure.status, failure.headers, failure.body, "-"
        if origin is not None:
            self._cors(origin, headers)
        if self.edge is not None:
            self.edge.add_response_headers(headers)
        headers.append((b"apigw-requestid", request_id.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        latency_ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.2fms %s %s", method, path, status, latency_ms, request_id, function)

    async def _static(self, scope: Scope, send: Send) -> bool:
        """Answers from the static site when the request is its (see the module docstring)."""
        assert self.static is not None
        method: str = scope["method"]
        if method not in ("GET", "HEAD") or scope["path"] in self.local_routes:
            return False
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else str(scope["path"])
        if self.router.match("GET", scope["path"], raw_path) is not None:
            return False
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        answer = self.static.answer(method, scope["path"], headers)
        if answer is None:
            return False
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})
        return True

    @staticmethod
    async def _local(route: LocalRoute, scope: Scope) -> bytes:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        try:
            answer = await route(query)
        except ValueError as error:
            raise _Reply(400, str(error)) from None
        return json.dumps(answer, default=str).encode()

    async def _handle(self, request: _Request, receive: Receive) -> tuple[int, Headers, bytes, str]:
        scope = request.scope
        length = request.headers.get("content-length", "")
        if self.edge is not None:
            # The web ACL runs before API Gateway: its refusals never reach the stage's throttle.
            if length.isdigit() and self.edge.body_too_large(int(length)) and self.edge.body_refusal is not None:
                raise _Reply.refused_at_edge(self.edge.body_refusal)
            refusal = self.edge.check_address(request.edge_view())
            if refusal is not None:
                raise _Reply.refused_at_edge(refusal)
        if self.buckets is not None:
            wait = self.buckets.take(request.source_ip)
            if wait:
                retry_after = str(TokenBuckets.retry_after(wait)).encode()
                raise _Reply(429, "Too Many Requests", [(b"retry-after", retry_after)])
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise _Reply(413, "Request Entity Too Large")
        request.body = await self._read_request_body(receive)

        method: str = scope["method"]
        if method == "OPTIONS" and self.cors_origins and "access-control-request-method" in request.headers:
            return 204, self._preflight(request.headers), b"", "-"
        matched = self.router.match(method, scope["path"], request.raw_path)
        if matched is None:
            raise _Reply(404, "Not Found")
        route, path_params = matched
        return (*await self._integrate(request, route, path_params), route.function_name)

    async def _read_request_body(self, receive: Receive) -> bytes:
        edge = self.edge
        if edge is None or edge.max_body_bytes is None or edge.body_refusal is None:
            return await read_body(receive)
        if edge.max_body_bytes >= MAX_BODY_BYTES:  # API Gateway's own limit is the tighter one
            return await read_body(receive)
        # A body sent without Content-Length (chunked) is measured as it arrives, and refused once too long.
        try:
            return await read_body(receive, edge.max_body_bytes)
        except _Reply:
            raise _Reply.refused_at_edge(edge.body_refusal) from None

    async def _integrate(
        self, request: _Request, route: Route, path_params: dict[str, str]
    ) -> tuple[int, Headers, bytes]:
        query_string = request.scope.get("query_string", b"").decode("latin-1")
        query: dict[str, str] = {}
        for key, value in parse_qsl(query_string, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        authorizer = None
        if route.authorizer is not None:
            try:
                authorization = await self.verifier.authorize(
                    request.headers, query, route.authorizer, route.authorization_scopes
                )
            except Unauthorized as refused:
                auth_header = [(b"www-authenticate", refused.www_authenticate.encode())]
                raise _Reply(refused.status, refused.message, auth_header, route.function_name) from None
            authorizer = authorization.event_authorizer()
            subject = authorization.claims.get("sub")
            if self.edge is not None and isinstance(subject, str) and subject:
                refusal = self.edge.check_caller(request.edge_view(), subject)
                if refusal is not None:
                    raise _Reply.refused_at_edge(refusal, route.function_name)

        event = self._event(request, route, query_string, query, path_params=path_params, authorizer=authorizer)
        try:
            result = await self.runtime.invoke(route.function_name, json.dumps(event).encode())
        except FunctionNotFound:
            log.error("route %s targets %s, not a function of this stack", route.route_key, route.function_name)
            raise _Reply(500, "Internal Server Error", function=route.function_name) from None
        if result.function_error is not None:
            raise _Reply(500, "Internal Server Error", function=route.function_name)
        try:
            return _map_response(result.payload)
        except _Malformed as error:
            log.warning("%s returned a malformed proxy response: %s", route.function_name, error)
            raise _Reply(500, "Internal Server Error", function=route.function_name) from None

    def _event(
        self,
        request: _Request,
        route: Route,
        query_string: str,
        query: dict[str, str],
        *,
        path_params: dict[str, str],
        authorizer: dict[str, Any] | None,
    ) -> dict[str, Any]:
        scope = request.scope
        headers = request.headers
        # Like API Gateway, add the forwarding headers the function may rely on.
        forwarded = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
        server = scope.get("server")
        if server and server[1]:
            headers["x-forwarded-port"] = str(server[1])
        headers["x-forwarded-proto"] = scope.get("scheme", "http")
        headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}")
        domain = headers.get("host", "localhost")
        path = request.raw_path
        when, epoch_ms = self._clock.now()
        context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": self.api.api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": scope["method"],
                "path": path,
                "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request.request_id,
            "routeKey": route.route_key,
            "stage": self.api.stage,
            "time": when,
            "timeEpoch": epoch_ms,
        }
        if authorizer is not None:
            context["authorizer"] = authorizer
        event: dict[str, Any] = {"version": "2.0", "routeKey": route.route_key, "rawPath": path}
        event["rawQueryString"] = query_string
        if request.cookies:
            event["cookies"] = request.cookies
        event["headers"] = headers
        if query:
            event["queryStringParameters"] = query
        event["requestContext"] = context
        body = request.body
        if body:
            text = _as_text(body) if is_text(headers.get("content-type")) else None
            event["body"] = text if text is not None else base64.b64encode(body).decode()
            event["isBase64Encoded"] = text is None
        else:
            event["isBase64Encoded"] = False
        if path_params:
            event["pathParameters"] = path_params
        event["stageVariables"] = None
        return event

    def _allowed_origin(self, origin: str | None) -> str | None:
        if not origin or not self.cors_origins:
            return None
        if "*" in self.cors_origins:
            return "*"
        return origin if origin in self.cors_origins else None

    def _cors(self, origin: str, headers: Headers) -> None:
        allowed = self._allowed_origin(origin)
        if allowed is not None and not any(name == b"access-control-allow-origin" for name, _ in headers):
            headers.append((b"access-control-allow-origin", allowed.encode()))
            if allowed != "*":
                headers.append((b"vary", b"Origin"))

    def _preflight(self, headers: dict[str, str]) -> Headers:
        # Allowed origins get their headers added by _cors; the method and headers asked for are granted.
        response = [(b"access-control-allow-methods", headers["access-control-request-method"].encode())]
        requested = headers.get("access-control-request-headers")
        if requested:
            response.append((b"access-control-allow-headers", requested.encode()))
        return response


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None  # not valid UTF-8 after all: it travels base64-encoded


def _map_response(payload: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Payload format 2.0: a dict with statusCode is a response; anything else is a 200 JSON body."""
    data = json.loads(payload) if payload[:1] == b"{" else None
    if not isinstance(data, dict) or "statusCode" not in data:
        return 200, list(_JSON), payload
    status = data["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise _Malformed(f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[bytes, bytes]] = []
    raw_headers = data.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise _Malformed("headers must be an object")
    for name, value in raw_headers.items():
        if not isinstance(value, str | int | float):
            raise _Malformed(f"header {name!r} must be a string")
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        headers.append((str(name).lower().encode("latin-1"), text.encode("latin-1", "replace")))
    cookies = data.get("cookies") or []
    if not isinstance(cookies, list):
        raise _Malformed("cookies must be a list")
    headers.extend((b"set-cookie", str(cookie).encode("latin-1", "replace")) for cookie in cookies)
    body = data.get("body")
    if body is None:
        return status, headers, b""
    if not isinstance(body, str):
        raise _Malformed("body must be a string")
    if data.get("isBase64Encoded"):
        try:
            return status, headers, base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise _Malformed(f"body is not base64: {error}") from None
    return status, headers, body.encode()


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body; beyond `limit` (API Gateway's 10 MB by default) the request is refused."""
    message = await receive()
    body: bytes = message.get("body", b"")
    size = len(body)
    if size > limit:
        raise BodyTooLarge()
    if not message.get("more_body"):
        return body
    chunks = [body]
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def lifespan(receive: Receive, send: Send, on_shutdown: Callable[[], Awaitable[None]]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_gateway_app(
    api: HttpApiSpec,
    runtime: FunctionRuntime,
    endpoints: Endpoints,
    *,
    local_routes: Mapping[str, LocalRoute],
    local_actions: Mapping[str, LocalAction] | None = None,
    edge: Edge | None = None,
    static: StaticSite | None = None,
) -> Gateway:
    """The ASGI app of one HTTP API, with the cloud's own GET routes (e.g. {"/health": handler}) and actions
    (e.g. {"POST /_local/faults": handler}), behind the template's `edge` if it has one. `await app.aclose()`
    at shutdown releases its JWKS HTTP client. `static` serves the storefront's files (infra.apigateway.static)."""
    return Gateway(api, runtime, endpoints, local_routes, local_actions=local_actions, edge=edge, static=static)
