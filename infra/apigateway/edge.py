"""The API's edge as the local cloud plays it: the template's CloudFront-scoped WAF web ACL and CloudFront
response headers policy, enforced by the gateway, which stands in for the distribution in front of the API.

On AWS the distribution (template.yaml, ApiDistribution) runs the web ACL before API Gateway sees a request
and adds the policy's headers to every response. Locally the same two resources are read from the stack, so
the limits are the template's numbers; what is supported is what the template uses:

- a SizeConstraintStatement on the Body (GT/GE a size) as a rule of its own: the largest body let through;
- RateBasedStatements keyed on the client address (AggregateKeyType IP: here the TCP peer, never a
  forwarded header) or on the caller (CUSTOM_KEYS of the one header `authorization`: WAF counts per token;
  here the bucket is the verified token's `sub`, so a fresh token of the same user is the same caller),
  optionally scoped down by And/Or/Not of ByteMatchStatements on the Method, UriPath or a SingleHeader;
- Block actions with a custom response (status, body from CustomResponseBodies, headers), and Count.

A WAF rate-based rule counts requests over a trailing window and blocks above `Limit`; locally each key has a
token bucket of `Limit` tokens refilled at `Limit / window` per second: the same sustained rate, with a
precise Retry-After (AWS sends the rule's fixed Retry-After, the window). Anything else in the web ACL stops
the local cloud at startup rather than being silently ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote_plus

from infra.apigateway.throttle import TokenBuckets

Headers = list[tuple[bytes, bytes]]
KeyKind = Literal["address", "caller"]

_CONTENT_TYPES = {"APPLICATION_JSON": b"application/json", "TEXT_PLAIN": b"text/plain", "TEXT_HTML": b"text/html"}


class EdgeConfigError(ValueError):
    """The web ACL or headers policy uses something the local edge does not enforce."""


@dataclass(frozen=True)
class EdgeRequest:
    method: str
    path: str  # the raw (still percent-encoded) path, as WAF's UriPath sees it
    headers: Mapping[str, str]  # lower-case names
    source_ip: str  # the TCP peer


@dataclass(frozen=True)
class Refusal:
    """An answer of the edge: WAF's Block with its custom response."""

    rule: str
    status: int
    body: bytes
    headers: Headers


@dataclass
class RateRule:
    name: str
    limit: int
    window_seconds: int
    keyed_on: KeyKind
    applies: Callable[[EdgeRequest], bool]
    block: Refusal | None  # None: a Count rule, never refuses
    buckets: TokenBuckets = field(repr=False)

    def check(self, request: EdgeRequest, key: str) -> Refusal | None:
        if self.block is None or not self.applies(request):
            return None
        wait = self.buckets.take(key)
        if not wait:
            return None
        retry_after = str(TokenBuckets.retry_after(wait)).encode()
        headers = [(name, value) for name, value in self.block.headers if name != b"retry-after"]
        return Refusal(self.name, self.block.status, self.block.body, [*headers, (b"retry-after", retry_after)])


class Edge:
    """The web ACL's checks and the response headers policy's headers, for the gateway to apply."""

    def __init__(
        self,
        web_acl: Mapping[str, Any] | None,
        headers_policy: Mapping[str, Any] | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_body_bytes: int | None = None
        self.body_refusal: Refusal | None = None
        self.rate_rules: list[RateRule] = []
        if web_acl is not None:
            self._read_web_acl(web_acl, clock)
        self._headers = policy_headers(headers_policy) if headers_policy is not None else []

    # -- requests ----------------------------------------------------------------------------------
    def check_address(self, request: EdgeRequest) -> Refusal | None:
        """The rules keyed on the client address, in priority order (before API Gateway runs)."""
        for rule in self.rate_rules:
            if rule.keyed_on == "address":
                refusal = rule.check(request, request.source_ip)
                if refusal is not None:
                    return refusal
        return None

    def check_caller(self, request: EdgeRequest, subject: str) -> Refusal | None:
        """The rules keyed on the signed-in caller, once the authorizer has verified its token."""
        for rule in self.rate_rules:
            if rule.keyed_on == "caller":
                refusal = rule.check(request, subject)
                if refusal is not None:
                    return refusal
        return None

    def body_too_large(self, size: int) -> bool:
        return self.max_body_bytes is not None and size > self.max_body_bytes

    # -- responses ---------------------------------------------------------------------------------
    def add_response_headers(self, headers: Headers) -> None:
        """The policy's headers; one the response already has stays unless the policy overrides it."""
        for name, value, override in self._headers:
            present = any(existing == name for existing, _ in headers)
            if present and override:
                headers[:] = [(existing, old) for existing, old in headers if existing != name]
            if not present or override:
                headers.append((name, value))

    # -- reading the web ACL -----------------------------------------------------------------------
    def _read_web_acl(self, web_acl: Mapping[str, Any], clock: Callable[[], float]) -> None:
        bodies = web_acl.get("CustomResponseBodies") or {}
        for rule in sorted(web_acl.get("Rules") or [], key=lambda r: int(r.get("Priority", 0))):
            name = str(rule["Name"])
            block = _block(name, rule.get("Action") or {}, bodies)
            statement = rule.get("Statement") or {}
            if "SizeConstraintStatement" in statement:
                self._read_size_rule(name, statement["SizeConstraintStatement"], block)
            elif "RateBasedStatement" in statement:
                self.rate_rules.append(_rate_rule(name, statement["RateBasedStatement"], block, clock))
            else:
                raise EdgeConfigError(f"web ACL rule {name}: the local edge enforces no {sorted(statement)}")

    def _read_size_rule(self, name: str, size: Mapping[str, Any], block: Refusal | None) -> None:
        if "Body" not in (size.get("FieldToMatch") or {}):
            raise EdgeConfigError(f"web ACL rule {name}: only a size constraint on the Body is enforced locally")
        operator, limit = size.get("ComparisonOperator"), int(size["Size"])
        if operator not in ("GT", "GE"):
            raise EdgeConfigError(f"web ACL rule {name}: ComparisonOperator {operator} is not enforced locally")
        if block is not None:
            self.max_body_bytes = limit if operator == "GT" else limit - 1
            self.body_refusal = block


def _block(rule: str, action: Mapping[str, Any], bodies: Mapping[str, Any]) -> Refusal | None:
    if "Count" in action:
        return None
    if "Block" not in action:
        raise EdgeConfigError(f"web ACL rule {rule}: only Block and Count actions are enforced locally")
    custom = (action["Block"] or {}).get("CustomResponse")
    if not custom:
        return Refusal(rule, 403, b"", [])  # WAF's default block
    headers: Headers = []
    body = b""
    key = custom.get("CustomResponseBodyKey")
    if key:
        definition = bodies[key]
        body = str(definition["Content"]).encode()
        headers.append((b"content-type", _CONTENT_TYPES.get(str(definition.get("ContentType")), b"text/plain")))
    for header in custom.get("ResponseHeaders") or []:
        headers.append((str(header["Name"]).lower().encode("latin-1"), str(header["Value"]).encode("latin-1")))
    return Refusal(rule, int(custom["ResponseCode"]), body, headers)


def _rate_rule(name: str, rate: Mapping[str, Any], block: Refusal | None, clock: Callable[[], float]) -> RateRule:
    kind = rate.get("AggregateKeyType", "IP")
    keyed_on: KeyKind
    if kind == "IP":
        keyed_on = "address"
    elif kind == "CUSTOM_KEYS" and _is_authorization_header(rate.get("CustomKeys") or []):
        keyed_on = "caller"
    else:
        raise EdgeConfigError(f"web ACL rule {name}: only IP or the authorization header are enforced locally")
    limit, window = int(rate["Limit"]), int(rate.get("EvaluationWindowSec", 300))
    scope = rate.get("ScopeDownStatement")
    applies = _matcher(name, scope) if scope else (lambda request: True)
    buckets = TokenBuckets(limit / window, limit, clock=clock)
    return RateRule(name, limit, window, keyed_on, applies, block, buckets)


def _is_authorization_header(keys: list[Mapping[str, Any]]) -> bool:
    return len(keys) == 1 and str((keys[0].get("Header") or {}).get("Name", "")).lower() == "authorization"


# -- scope-down statements ---------------------------------------------------------------------------


def _matcher(rule: str, statement: Mapping[str, Any]) -> Callable[[EdgeRequest], bool]:
    [(kind, body)] = statement.items()
    if kind in ("AndStatement", "OrStatement"):
        parts = [_matcher(rule, part) for part in body["Statements"]]
        combine = all if kind == "AndStatement" else any
        return lambda request: combine(part(request) for part in parts)
    if kind == "NotStatement":
        inner = _matcher(rule, body["Statement"])
        return lambda request: not inner(request)
    if kind == "ByteMatchStatement":
        return _byte_match(rule, body)
    raise EdgeConfigError(f"web ACL rule {rule}: the local edge cannot evaluate a {kind}")


def _byte_match(rule: str, match: Mapping[str, Any]) -> Callable[[EdgeRequest], bool]:
    target = match["FieldToMatch"]
    read: Callable[[EdgeRequest], str | None]
    if "Method" in target:
        read = lambda request: request.method  # noqa: E731
    elif "UriPath" in target:
        read = lambda request: request.path  # noqa: E731
    elif "SingleHeader" in target:
        header = str(target["SingleHeader"]["Name"]).lower()
        read = lambda request: request.headers.get(header)  # noqa: E731
    else:
        raise EdgeConfigError(f"web ACL rule {rule}: ByteMatch on {sorted(target)} is not enforced locally")
    transforms = [str(t["Type"]) for t in sorted(match.get("TextTransformations") or [], key=lambda t: t["Priority"])]
    for transform in transforms:
        if transform not in _TRANSFORMS:
            raise EdgeConfigError(f"web ACL rule {rule}: text transformation {transform} is not supported locally")
    wanted = str(match["SearchString"])
    position = str(match["PositionalConstraint"])
    compare = _POSITIONS.get(position)
    if compare is None:
        raise EdgeConfigError(f"web ACL rule {rule}: PositionalConstraint {position} is not supported locally")

    def matches(request: EdgeRequest) -> bool:
        value = read(request)
        if value is None:
            return False
        for transform in transforms:
            value = _TRANSFORMS[transform](value)
        return compare(value, wanted)

    return matches


_TRANSFORMS: dict[str, Callable[[str], str]] = {
    "NONE": lambda text: text,
    "LOWERCASE": str.lower,
    "URL_DECODE": unquote_plus,
}
_POSITIONS: dict[str, Callable[[str, str], bool]] = {
    "EXACTLY": lambda value, wanted: value == wanted,
    "STARTS_WITH": lambda value, wanted: value.startswith(wanted),
    "ENDS_WITH": lambda value, wanted: value.endswith(wanted),
    "CONTAINS": lambda value, wanted: wanted in value,
}


# -- the response headers policy ---------------------------------------------------------------------


def policy_headers(policy: Mapping[str, Any]) -> list[tuple[bytes, bytes, bool]]:
    """(name, value, override) for each header a ResponseHeadersPolicyConfig adds, as CloudFront writes them."""
    config = policy.get("ResponseHeadersPolicyConfig", policy)
    security = config.get("SecurityHeadersConfig") or {}
    headers: list[tuple[str, str, bool]] = []
    sts = security.get("StrictTransportSecurity")
    if sts:
        value = f"max-age={int(sts['AccessControlMaxAgeSec'])}"
        value += "; includeSubDomains" if _flag(sts.get("IncludeSubdomains")) else ""
        value += "; preload" if _flag(sts.get("Preload")) else ""
        headers.append(("strict-transport-security", value, _flag(sts.get("Override"))))
    if "ContentTypeOptions" in security:
        headers.append(("x-content-type-options", "nosniff", _flag(security["ContentTypeOptions"].get("Override"))))
    frame = security.get("FrameOptions")
    if frame:
        headers.append(("x-frame-options", str(frame["FrameOption"]), _flag(frame.get("Override"))))
    referrer = security.get("ReferrerPolicy")
    if referrer:
        headers.append(("referrer-policy", str(referrer["ReferrerPolicy"]), _flag(referrer.get("Override"))))
    csp = security.get("ContentSecurityPolicy")
    if csp:
        headers.append(("content-security-policy", str(csp["ContentSecurityPolicy"]), _flag(csp.get("Override"))))
    xss = security.get("XSSProtection")
    if xss:
        value = "1" if _flag(xss.get("Protection")) else "0"
        value += "; mode=block" if _flag(xss.get("ModeBlock")) else ""
        headers.append(("x-xss-protection", value, _flag(xss.get("Override"))))
    for item in (config.get("CustomHeadersConfig") or {}).get("Items") or []:
        headers.append((str(item["Header"]).lower(), str(item["Value"]), _flag(item.get("Override"))))
    return [(name.encode("latin-1"), value.encode("latin-1"), override) for name, value, override in headers]


def _flag(value: Any) -> bool:
    # Resolved template values may be booleans or the strings "true"/"false".
    return value is True or str(value).lower() == "true"
