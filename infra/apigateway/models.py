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
    audiences: tuple[str, ...]
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
