"""The HTTP API's JWT authorizer: validates bearer tokens the way API Gateway does.

API Gateway's checks, in order: a token in the identity source ("Bearer <jwt>" or the bare jwt); an
RS256 signature by a key (by `kid`) of the issuer's JWKS; `iss` equal to the authorizer's issuer; `aud`
(or, only when there is no `aud`, `client_id`) among the authorizer's audiences; `exp` in the future,
`nbf` and `iat` in the past; and, when the route requires scopes, at least one of them in `scope`/`scp`.
Failures answer 401 (403 for missing scopes) with a `www-authenticate: Bearer ...` header.

Cognito issuers name the real AWS host (moto issues tokens that way), so their keys are fetched from
the local moto server instead: https://cognito-idp.<region>.amazonaws.com/<poolId> ->
<moto>/<poolId>/.well-known/jwks.json. Other issuers: <issuer>/.well-known/jwks.json.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from infra.apigateway.models import JwtAuthorizer
from infra.core.aws import Endpoints

log = logging.getLogger("infra.apigateway")

_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/([\w-]+)/?$")
_IDENTITY_SOURCE = re.compile(r"^\$request\.(header|querystring)\.(.+)$")
_TOKEN_CACHE_SIZE = 4096


class Unauthorized(Exception):
    """The request is refused: status 401 (or 403) with API Gateway's www-authenticate header."""

    def __init__(
        self, description: str | None, *, status: int = 401, scope: str = "", error: str = "invalid_token"
    ) -> None:
        super().__init__(description or "no token")
        self.status = status
        self.message = "Unauthorized" if status == 401 else "Forbidden"
        if description is None:
            self.www_authenticate = "Bearer"
        else:
            self.www_authenticate = f'Bearer scope="{scope}" error="{error}" error_description="{description}"'


@dataclass(frozen=True)
class JwtAuthorization:
    claims: dict[str, Any]  # as the token carries them
    scopes: list[str] | None

    def event_authorizer(self) -> dict[str, Any]:
        """requestContext.authorizer of the payload 2.0 event."""
        return {"jwt": {"claims": render_claims(self.claims), "scopes": self.scopes}}


def render_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to the function: every value a string, lists as `[a b]`."""
    return {key: _render(value) for key, value in claims.items()}


def _render(value: Any) -> str:
    # API Gateway formats claim values the way Go's fmt %v does.
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list | tuple):
        text = "[" + " ".join(_render(item) for item in value) + "]"
    elif isinstance(value, dict):
        text = "map[" + " ".join(f"{key}:{_render(item)}" for key, item in sorted(value.items())) + "]"
    else:
        text = "" if value is None else str(value)
    return text


def token_scopes(claims: Mapping[str, Any]) -> list[str] | None:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(item) for item in raw]
    return None


class _IssuerKeys:
    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetched_at = -float("inf")
        self.lock = asyncio.Lock()


class JwtVerifier:
    """Verifies bearer tokens for JwtAuthorizers; the JWKS of each issuer is fetched once and cached."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        leeway_seconds: float = 2.0,
        refetch_interval_seconds: float = 10.0,
        http_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoints = endpoints
        self.leeway = leeway_seconds
        self.refetch_interval = refetch_interval_seconds
        self.http_timeout = http_timeout_seconds
        self.clock = clock
        self._issuers: dict[str, _IssuerKeys] = {}
        # Signature checks cost ~50 us each: remember tokens whose signature is good (claims are
        # re-checked on every request, so expiry still applies).
        self._verified: dict[tuple[str, str], dict[str, Any]] = {}
        self._client: httpx.AsyncClient | None = None

    def jwks_url(self, issuer: str) -> str:
        cognito = _COGNITO_ISSUER.match(issuer)
        if cognito:
            return f"{self.endpoints.moto.rstrip('/')}/{cognito.group(1)}/.well-known/jwks.json"
        return f"{issuer.rstrip('/')}/.well-known/jwks.json"

    async def authorize(
        self,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        authorizer: JwtAuthorizer,
        required_scopes: Sequence[str] = (),
    ) -> JwtAuthorization:
        """Take the token from the authorizer's identity source (lower-cased header names) and verify it."""
        source = _IDENTITY_SOURCE.match(authorizer.identity_source)
        if source is None or source.group(1) == "header":
            name = source.group(2).lower() if source else "authorization"
            value = headers.get(name)
        else:
            value = query.get(source.group(2))
        if not value:
            raise Unauthorized(None)
        token = value[7:].strip() if value[:7].lower() == "bearer " else value.strip()
        return await self.verify(token, authorizer, required_scopes)

    async def verify(
        self, token: str, authorizer: JwtAuthorizer, required_scopes: Sequence[str] = ()
    ) -> JwtAuthorization:
        claims = self._verified.get((authorizer.issuer, token))
        if claims is None:
            claims = await self._verify_signature(token, authorizer.issuer)
            if len(self._verified) >= _TOKEN_CACHE_SIZE:
                self._verified.clear()
            self._verified[(authorizer.issuer, token)] = claims
        self._check_claims(claims, authorizer)
        scopes = token_scopes(claims)
        if required_scopes and not set(required_scopes).intersection(scopes or ()):
            wanted = " ".join(required_scopes)
            raise Unauthorized(f"expected scopes: [{wanted}]", status=403, scope=wanted, error="insufficient_scope")
        return JwtAuthorization(claims, scopes)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _verify_signature(self, token: str, issuer: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the token is malformed") from None
        if header.get("alg") != "RS256":
            raise Unauthorized(f"the token signing algorithm {header.get('alg')} is not supported") from None
        key = await self._key(issuer, str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                options={
                    "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                    "verify_aud": False, "verify_iss": False,
                },
            )  # fmt: skip
        except jwt.InvalidSignatureError:
            raise Unauthorized("the token has an invalid signature") from None
        except jwt.PyJWTError:
            raise Unauthorized("the token is malformed") from None
        return claims

    def _check_claims(self, claims: Mapping[str, Any], authorizer: JwtAuthorizer) -> None:
        if claims.get("iss") != authorizer.issuer:
            raise Unauthorized("the token does not have a valid issuer")
        audience = claims.get("aud") if "aud" in claims else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        allowed = authorizer.audiences
        if allowed is not None and not any(isinstance(a, str) and a in allowed for a in audiences):
            raise Unauthorized("the token does not have a valid audience")
        now = self.clock()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or now > exp + self.leeway:
            raise Unauthorized("the token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and now + self.leeway < nbf:
            raise Unauthorized("the token is not valid yet")
        iat = claims.get("iat")
        if isinstance(iat, int | float) and now + self.leeway < iat:
            raise Unauthorized("the token was issued in the future")

    async def _key(self, issuer: str, kid: str) -> Any:
        keys = self._issuers.setdefault(issuer, _IssuerKeys())
        key = keys.keys.get(kid)
        if key is not None:
            return key
        async with keys.lock:
            key = keys.keys.get(kid)
            # An unknown kid may mean the issuer rotated its keys: refetch, but not on every bad token.
            if key is None and time.monotonic() - keys.fetched_at >= self.refetch_interval:
                keys.fetched_at = time.monotonic()
                try:
                    keys.keys = await self._fetch(issuer)
                except (httpx.HTTPError, ValueError) as error:
                    log.warning("JWKS of %s unavailable at %s: %s", issuer, self.jwks_url(issuer), error)
                    raise Unauthorized("unable to fetch the issuer's signing keys") from None
                key = keys.keys.get(kid)
        if key is None:
            raise Unauthorized("the token has an invalid signature")
        return key

    async def _fetch(self, issuer: str) -> dict[str, Any]:
        if self._client is None:
            # trust_env=False: a proxy from the environment must not intercept the loopback moto server.
            self._client = httpx.AsyncClient(timeout=self.http_timeout, trust_env=False)
        response = await self._client.get(self.jwks_url(issuer))
        response.raise_for_status()
        keys: dict[str, Any] = {}
        for jwk in response.json().get("keys", []):
            try:
                keys[str(jwk.get("kid", ""))] = jwt.PyJWK(jwk).key
            except jwt.PyJWTError as error:
                log.warning("skipping a JWKS key of %s: %s", issuer, error)
        return keys
