"""The records of an HTTP API (API Gateway v2): its routes, JWT authorizers and stage throttling.

infra.cloudformation.provision builds them from the translated OpenAPI body; the gateway reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JwtAuthorizer:
    """An HTTP API JWT authorizer (x-amazon-apigateway-authorizer of type jwt)."""

    name: str
    issuer: str  # e.g. https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc
    audiences: tuple[str, ...] | None  # None: any audience (a REST API's Cognito user-pool authorizer)
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class Route:
    """One route of an HTTP API, as API Gateway matches it."""

    method: str  # upper case, or "ANY"
    path: str  # OpenAPI path: "/items/{itemId}", "/{proxy+}"
    function_name: str  # "Name", or "Name:qualifier" when the integration targets an alias or a version
    authorizer: JwtAuthorizer | None = None
    authorization_scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Throttle:
    rate_per_second: float
    burst: int


@dataclass
class HttpApiSpec:
    logical_id: str
    api_id: str
    stage: str
    routes: list[Route] = field(default_factory=list)
    throttle: Throttle | None = None
    cors_allow_origins: tuple[str, ...] = ()


# ------------------------------------------------------------------------------ REST APIs (API Gateway v1)

# What the local gateway does not do for a REST API, as data: start-up logs the ones a template uses (and the
# inventory of partly emulated features can read this tuple). Each entry: (feature, what happens locally).
REST_API_NOT_SERVED: tuple[tuple[str, str], ...] = (
    ("usage plans and API keys", "recorded; x-api-key is not required and no quota applies"),
    ("request validators", "recorded; requests reach the integration unvalidated"),
    (
        "non-proxy integrations (aws, http, http_proxy) and VTL mapping templates",
        "the method answers 500 Internal server error and logs why; only aws_proxy (Lambda) and mock are served",
    ),
    ("IAM authorization (AWS_IAM)", "not checked: the method is served as if open"),
    ("gateway responses (x-amazon-apigateway-gateway-responses)", "API Gateway's default answers are given"),
    ("stage caching, canaries, access logging, X-Ray tracing", "recorded, not simulated"),
    ("resource policies (Policy)", "not enforced"),
    (
        "explicit AWS::ApiGateway::Resource / Method / Authorizer resources",
        "recorded only: a REST API is served from its OpenAPI Body (what SAM generates)",
    ),
)


@dataclass(frozen=True)
class RestAuthorizer:
    """A REST API authorizer (securityDefinitions with x-amazon-apigateway-authorizer)."""

    name: str
    type: str  # "cognito_user_pools", "token" or "request"
    # cognito_user_pools: the pools' issuers (https://cognito-idp.<region>.amazonaws.com/<poolId>)
    issuers: tuple[str, ...] = ()
    function_name: str = ""  # token/request: the authorizer function
    # Where the identity comes from: ("header" | "querystring" | "stageVariables" | "context", name) each.
    identity_sources: tuple[tuple[str, str], ...] = (("header", "Authorization"),)
    validation_expression: str = ""  # token: a regex the token must match, else 401 without invoking
    ttl_seconds: int = 300  # authorizerResultTtlInSeconds: 0 turns the policy cache off


@dataclass(frozen=True)
class MockResponse:
    """What a mock integration answers (SAM's CORS preflight methods)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: str


@dataclass(frozen=True)
class RestMethod:
    """One method of a REST API resource: a Lambda proxy, a mock, or an integration the gateway cannot serve."""

    method: str  # upper case, or "ANY"
    path: str  # the resource path: "/items/{itemId}", "/files/{proxy+}"
    function_name: str = ""  # aws_proxy
    mock: MockResponse | None = None  # mock
    not_served: str = ""  # why this method answers 500 (e.g. "integration type http")
    authorizer: RestAuthorizer | None = None
    authorization_scopes: tuple[str, ...] = ()


@dataclass
class RestApiSpec:
    """A REST API (API Gateway v1) as the local gateway serves it: `/{stage}/{path}` on its own port."""

    logical_id: str
    api_id: str
    name: str
    methods: list[RestMethod] = field(default_factory=list)
    stages: dict[str, dict[str, str]] = field(default_factory=dict)  # stage name -> its stage variables
    binary_media_types: tuple[str, ...] = ()
    throttle: Throttle | None = None
    not_served: list[str] = field(default_factory=list)  # features of REST_API_NOT_SERVED this API uses
