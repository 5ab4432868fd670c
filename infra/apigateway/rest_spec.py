"""A REST API's records (infra.apigateway.models.RestApiSpec) from its CloudFormation properties.

SAM translates `AWS::Serverless::Api` and the implicit `ServerlessRestApi` into an `AWS::ApiGateway::RestApi`
whose `Body` is a Swagger 2.0 document: `x-amazon-apigateway-integration` per method (aws_proxy for Lambda,
mock for the CORS preflight methods), `x-amazon-apigateway-any-method`, `{proxy+}` paths, and
securityDefinitions with `x-amazon-apigateway-authorizer` (cognito_user_pools, token, request). OpenAPI 3
bodies (components.securitySchemes) read the same. What the gateway does not serve is named in
`RestApiSpec.not_served` (models.REST_API_NOT_SERVED), so start-up can say so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.apigateway.models import (
    REST_API_NOT_SERVED,
    MockResponse,
    RestApiSpec,
    RestAuthorizer,
    RestMethod,
    Throttle,
)
from infra.awslambda.models import function_reference

# The features of REST_API_NOT_SERVED, by name, in that tuple's order.
USAGE_PLANS, VALIDATORS, NON_PROXY, IAM, GATEWAY_RESPONSES, STAGE_EXTRAS, POLICY, EXPLICIT = (
    feature for feature, _ in REST_API_NOT_SERVED
)

_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"})
_POOL_ARN = re.compile(r"^arn:aws[\w-]*:cognito-idp:([a-z0-9-]+):\d*:userpool/([\w-]+)$")
_IDENTITY = re.compile(r"^method\.request\.(header|querystring)\.(.+)$|^(stageVariables|context)\.(.+)$")


class RestApiError(ValueError):
    """The REST API cannot be served as written (the message says why)."""


def function_name_of(uri: Any) -> str:
    """arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/arn:...:function:NAME[:QUALIFIER]/invocations
    -> NAME or NAME:QUALIFIER (an alias or a version, which the runtime resolves as Lambda does)."""
    arn = str(uri).split("/functions/", 1)[-1].rsplit("/invocations", 1)[0]
    return function_reference(arn)


def issuer_of(pool_arn: str) -> str:
    match = _POOL_ARN.match(pool_arn)
    if match is None:
        raise RestApiError(f"{pool_arn!r} is not a Cognito user pool ARN")
    return f"https://cognito-idp.{match.group(1)}.amazonaws.com/{match.group(2)}"


def _identity_sources(text: str) -> tuple[tuple[str, str], ...]:
    sources = []
    for part in (piece.strip() for piece in text.split(",")):
        match = _IDENTITY.match(part)
        if match is None:
            raise RestApiError(f"identity source {part!r} is not method.request.header|querystring.NAME")
        kind, name = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        sources.append((kind, name))
    return tuple(sources)


def _authorizer(name: str, scheme: Mapping[str, Any]) -> RestAuthorizer | None:
    config = scheme.get("x-amazon-apigateway-authorizer")
    if not isinstance(config, Mapping):
        return None
    kind = str(config.get("type", "")).lower()
    ttl = int(config.get("authorizerResultTtlInSeconds", 300))
    if kind == "cognito_user_pools":
        issuers = tuple(issuer_of(str(arn)) for arn in config.get("providerARNs", []))
        header = str(scheme.get("name") or "Authorization")
        sources = _identity_sources(config["identitySource"]) if "identitySource" in config else (("header", header),)
        return RestAuthorizer(name, kind, issuers=issuers, identity_sources=sources, ttl_seconds=ttl)
    if kind in ("token", "request"):
        default = f"method.request.header.{scheme.get('name') or 'Authorization'}" if kind == "token" else ""
        source = str(config.get("identitySource", default))
        return RestAuthorizer(
            name, kind, function_name=function_name_of(config.get("authorizerUri", "")),
            identity_sources=_identity_sources(source) if source else (),
            validation_expression=str(config.get("identityValidationExpression", "")), ttl_seconds=ttl,
        )  # fmt: skip
    raise RestApiError(f"authorizer {name}: type {kind!r} is not one API Gateway has")


def _mock(integration: Mapping[str, Any]) -> MockResponse:
    """The mock integration's default response: its status, the literal header values of its
    responseParameters ('value' in single quotes) and its application/json template when it is a literal."""
    responses = integration.get("responses") or {}
    chosen: Mapping[str, Any] = responses.get("default") or next(iter(responses.values()), {})
    headers = tuple(
        (key.rsplit(".", 1)[-1], str(value)[1:-1])
        for key, value in (chosen.get("responseParameters") or {}).items()
        if key.startswith("method.response.header.") and str(value).startswith("'") and str(value).endswith("'")
    )
    template = str((chosen.get("responseTemplates") or {}).get("application/json", ""))
    body = "" if "$" in template or "#" in template else template
    return MockResponse(int(chosen.get("statusCode", 200)), headers, body)


def _api_wide_features(properties: Mapping[str, Any], body: Mapping[str, Any]) -> set[str]:
    found = set()
    if properties.get("Policy") or body.get("x-amazon-apigateway-policy"):
        found.add(POLICY)
    if body.get("x-amazon-apigateway-gateway-responses"):
        found.add(GATEWAY_RESPONSES)
    if body.get("x-amazon-apigateway-request-validators") or body.get("x-amazon-apigateway-request-validator"):
        found.add(VALIDATORS)
    if properties.get("ApiKeySourceType") or body.get("x-amazon-apigateway-api-key-source"):
        found.add(USAGE_PLANS)
    return found


@dataclass
class _Schemes:
    """The body's security schemes: authorizers the gateway runs, and API-key and IAM schemes it does not."""

    authorizers: dict[str, RestAuthorizer] = field(default_factory=dict)
    api_keys: set[str] = field(default_factory=set)
    iam: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> _Schemes:
        schemes = cls()
        definitions = body.get("securityDefinitions") or (body.get("components") or {}).get("securitySchemes") or {}
        for name, scheme in definitions.items():
            authorizer = _authorizer(name, scheme)
            if authorizer is not None:
                schemes.authorizers[name] = authorizer
            elif str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4":
                schemes.iam.add(name)
            elif scheme.get("type") == "apiKey":
                schemes.api_keys.add(name)
        return schemes

    def of_operation(self, security: list[Mapping[str, Any]], not_served: set[str]) -> dict[str, Any]:
        """The method's authorizer and scopes; API-key and IAM requirements are added to `not_served`."""
        chosen: dict[str, Any] = {"authorizer": None, "authorization_scopes": ()}
        for requirement in security:
            for name, scopes in requirement.items():
                if name in self.authorizers:
                    chosen = {"authorizer": self.authorizers[name], "authorization_scopes": tuple(scopes)}
                elif name in self.api_keys:
                    not_served.add(USAGE_PLANS)
                elif name in self.iam:
                    not_served.add(IAM)
        return chosen


def _method(http_method: str, path: str, operation: Mapping[str, Any], auth: dict[str, Any],
            not_served: set[str]) -> RestMethod:  # fmt: skip
    integration = operation.get("x-amazon-apigateway-integration") or {}
    kind = str(integration.get("type", "")).lower()
    if kind == "aws_proxy" and ":lambda:path/" in str(integration.get("uri", "")):
        return RestMethod(http_method, path, function_name=function_name_of(integration["uri"]), **auth)
    if kind == "mock":
        return RestMethod(http_method, path, mock=_mock(integration), **auth)
    not_served.add(NON_PROXY)
    reason = f"integration type {kind or 'none'} is not served locally (only aws_proxy to Lambda and mock)"
    return RestMethod(http_method, path, not_served=reason, **auth)


def rest_api_spec(logical_id: str, api_id: str, properties: Mapping[str, Any]) -> RestApiSpec:
    body = properties.get("Body")
    if not isinstance(body, Mapping):
        raise RestApiError("only REST APIs with an inline OpenAPI Body are served (not BodyS3Location)")
    title = (body.get("info") or {}).get("title")
    spec = RestApiSpec(logical_id, api_id, str(properties.get("Name") or title or logical_id))
    binary = properties.get("BinaryMediaTypes") or body.get("x-amazon-apigateway-binary-media-types") or []
    spec.binary_media_types = tuple(str(media).replace("~1", "/") for media in binary)
    not_served = _api_wide_features(properties, body)
    schemes = _Schemes.of(body)
    for path, operations in (body.get("paths") or {}).items():
        for method, operation in operations.items():
            if method not in _METHODS or not isinstance(operation, Mapping):
                continue
            if operation.get("x-amazon-apigateway-request-validator"):
                not_served.add(VALIDATORS)
            auth = schemes.of_operation(operation.get("security", body.get("security", [])), not_served)
            http_method = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            spec.methods.append(_method(http_method, path, operation, auth, not_served))
    spec.not_served = sorted(not_served)
    return spec


def add_stage(spec: RestApiSpec, properties: Mapping[str, Any]) -> list[str]:
    """An AWS::ApiGateway::Stage (or a Deployment's StageName) of `spec`; returns what of it is not served."""
    name = str(properties.get("StageName", ""))
    if not name:
        return []
    variables = properties.get("Variables") or {}
    spec.stages[name] = {str(key): str(value) for key, value in variables.items()}
    not_served = []
    extras = ("CacheClusterEnabled", "CanarySetting", "AccessLogSetting", "TracingEnabled")
    if any(properties.get(key) for key in extras):
        not_served.append(STAGE_EXTRAS)
    for setting in properties.get("MethodSettings") or []:
        # The stage-wide setting ("*" on "/*") throttles every method; per-method throttles are not served.
        if (
            setting.get("HttpMethod") == "*"
            and setting.get("ResourcePath") == "/*"
            and ("ThrottlingRateLimit" in setting or "ThrottlingBurstLimit" in setting)
        ):
            spec.throttle = Throttle(float(setting.get("ThrottlingRateLimit", 10000)),
                                     int(float(setting.get("ThrottlingBurstLimit", 5000))))  # fmt: skip
        if setting.get("CachingEnabled") or setting.get("LoggingLevel") not in (None, "OFF"):
            not_served.append(STAGE_EXTRAS)
    return sorted(set(not_served))
