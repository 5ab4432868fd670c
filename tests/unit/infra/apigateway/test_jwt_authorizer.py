"""The JWT authorizer against real Cognito tokens from a moto server, directly and through the gateway."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import jwt
import moto
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer

from infra.apigateway.authorizer import JwtVerifier, Unauthorized, render_claims
from infra.apigateway.gateway import create_gateway_app
from infra.apigateway.models import HttpApiSpec, JwtAuthorizer, Route
from infra.awslambda.workers import FunctionRuntime
from infra.core.aws import REGION, Endpoints

PASSWORD = "Sup3r-secret-pw"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_PORT", str(port))
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


def _pool(cognito: Any, name: str) -> tuple[str, str, dict[str, str]]:
    pool_id = cognito.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="api", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName="sellers")
    email = f"seller@{name}.example"
    cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="sellers")
    tokens = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]
    return pool_id, client_id, tokens


@pytest.fixture(scope="module")
def cognito(moto_url) -> dict[str, Any]:
    client = boto3.client(
        "cognito-idp", endpoint_url=moto_url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    pool_id, client_id, tokens = _pool(client, "main")
    _, _, other_tokens = _pool(client, "other")
    return {
        "issuer": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
        "client_id": client_id,
        "id_token": tokens["IdToken"],
        "access_token": tokens["AccessToken"],
        "other_pool_token": other_tokens["IdToken"],
    }


@pytest.fixture(scope="module")
def endpoints_with_moto(moto_url) -> Endpoints:
    return Endpoints(dynamodb=moto_url, moto=moto_url, lambda_api="http://127.0.0.1:9", api="http://127.0.0.1:9")


@pytest.fixture(scope="module")
def authorizer(cognito) -> JwtAuthorizer:
    return JwtAuthorizer(name="CognitoAuthorizer", issuer=cognito["issuer"], audiences=(cognito["client_id"],))


def resign(token: str, key: Any, **changes: Any) -> str:
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def moto_private_key() -> Any:
    path = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    return jwt.PyJWK(json.loads(gzip.decompress(path.read_bytes()))).key


def verify(endpoints: Endpoints, token: str, authorizer: JwtAuthorizer, scopes: tuple[str, ...] = ()) -> Any:
    async def main() -> Any:
        verifier = JwtVerifier(endpoints)
        try:
            return await verifier.authorize({"authorization": f"Bearer {token}"}, {}, authorizer, scopes)
        finally:
            await verifier.aclose()

    return asyncio.run(main())


def test_cognito_issuers_map_to_the_local_moto_jwks(endpoints_with_moto):
    verifier = JwtVerifier(endpoints_with_moto)
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
    assert verifier.jwks_url(issuer) == f"{endpoints_with_moto.moto}/us-east-1_AbC123/.well-known/jwks.json"
    assert verifier.jwks_url("https://auth.example.com/") == "https://auth.example.com/.well-known/jwks.json"


def test_valid_id_token_gives_claims_as_api_gateway_renders_them(endpoints_with_moto, cognito, authorizer):
    authorization = verify(endpoints_with_moto, cognito["id_token"], authorizer)
    claims = authorization.event_authorizer()["jwt"]["claims"]
    assert claims["cognito:groups"] == "[sellers]"
    assert claims["aud"] == cognito["client_id"]
    assert claims["iss"] == cognito["issuer"]
    assert claims["exp"].isdigit() and claims["iat"].isdigit()
    assert all(isinstance(value, str) for value in claims.values())


def test_access_token_is_checked_by_client_id(endpoints_with_moto, cognito, authorizer):
    authorization = verify(endpoints_with_moto, cognito["access_token"], authorizer)
    assert authorization.claims["client_id"] == cognito["client_id"]
    assert "aud" not in authorization.claims


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "the token has expired"),
        ("forged", "the token has an invalid signature"),
        ("other_pool", "the token does not have a valid issuer"),
        ("wrong_audience", "the token does not have a valid audience"),
        ("not_yet_valid", "the token is not valid yet"),
        ("garbage", "the token is malformed"),
    ],
)
def test_invalid_tokens_are_refused(endpoints_with_moto, cognito, authorizer, case, reason):
    token = cognito["id_token"]
    target = authorizer
    now = int(time.time())
    if case == "expired":
        token = resign(token, moto_private_key(), iat=now - 3600, exp=now - 60)
    elif case == "forged":
        token = resign(token, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    elif case == "other_pool":
        token = cognito["other_pool_token"]
    elif case == "wrong_audience":
        target = JwtAuthorizer(name="Other", issuer=authorizer.issuer, audiences=("someone-else",))
    elif case == "not_yet_valid":
        token = resign(token, moto_private_key(), nbf=now + 600)
    else:
        token = "not.a.jwt"
    with pytest.raises(Unauthorized) as refused:
        verify(endpoints_with_moto, token, target)
    assert refused.value.status == 401
    assert refused.value.www_authenticate == f'Bearer scope="" error="invalid_token" error_description="{reason}"'


def test_missing_scope_is_forbidden(endpoints_with_moto, cognito, authorizer):
    with pytest.raises(Unauthorized) as refused:
        verify(endpoints_with_moto, cognito["access_token"], authorizer, ("orders/write",))
    assert refused.value.status == 403
    assert 'error="insufficient_scope"' in refused.value.www_authenticate


def test_claims_rendering():
    rendered = render_claims(
        {"s": "x", "n": 1700000000, "f": 1.5, "whole": 2.0, "b": True, "l": ["a", "b"], "m": {"k": 1}, "none": None}
    )
    assert rendered == {
        "s": "x", "n": "1700000000", "f": "1.5", "whole": "2", "b": "true", "l": "[a b]", "m": "map[k:1]", "none": "",
    }  # fmt: skip


@pytest.fixture(scope="module")
def gateway(loop_thread, make_spec, endpoints_with_moto, authorizer) -> Iterator[tuple[httpx.Client, FunctionRuntime]]:
    runtime = loop_thread.call(lambda: FunctionRuntime({"Fn": make_spec("gateway", name="Fn")}, endpoints_with_moto))
    elsewhere = JwtAuthorizer(name="Elsewhere", issuer=authorizer.issuer, audiences=("someone-else",))
    api = HttpApiSpec(
        logical_id="HttpApi",
        api_id="auth",
        stage="$default",
        routes=[
            Route("GET", "/me", "Fn", authorizer=authorizer),
            Route("GET", "/scoped", "Fn", authorizer=authorizer, authorization_scopes=("orders/write",)),
            Route("GET", "/elsewhere", "Fn", authorizer=elsewhere),
            Route("GET", "/public", "Fn"),
        ],
    )

    async def health() -> dict[str, Any]:
        return {}

    app = create_gateway_app(api, runtime, endpoints_with_moto, local_routes={"/health": lambda query: health()})
    with httpx.Client(base_url=loop_thread.serve(app), timeout=30) as client:
        yield client, runtime
    loop_thread.run(app.aclose())
    loop_thread.run(runtime.close())


def test_gateway_puts_claims_in_the_event(gateway, cognito):
    client, _ = gateway
    response = client.get("/me", headers={"Authorization": f"Bearer {cognito['id_token']}"})
    assert response.status_code == 200
    jwt_context = response.json()["requestContext"]["authorizer"]["jwt"]
    assert jwt_context["claims"]["cognito:groups"] == "[sellers]"
    assert jwt_context["claims"]["token_use"] == "id"
    bare = client.get("/me", headers={"Authorization": cognito["access_token"]})  # no "Bearer": also accepted
    assert bare.status_code == 200


@pytest.mark.parametrize(
    ("path", "token", "status", "www_authenticate"),
    [
        ("/me", None, 401, "Bearer"),
        ("/me", "expired", 401, 'error_description="the token has expired"'),
        ("/me", "other_pool", 401, 'error_description="the token does not have a valid issuer"'),
        ("/elsewhere", "id_token", 401, 'error_description="the token does not have a valid audience"'),
        ("/scoped", "id_token", 403, 'error="insufficient_scope"'),
    ],
)
def test_gateway_refuses_without_invoking(gateway, loop_thread, cognito, path, token, status, www_authenticate):
    client, runtime = gateway
    headers = {}
    if token == "expired":
        now = int(time.time())
        headers["Authorization"] = resign(cognito["id_token"], moto_private_key(), iat=now - 7200, exp=now - 3600)
    elif token:
        headers["Authorization"] = f"Bearer {cognito[token + '_token' if token == 'other_pool' else token]}"
    before = loop_thread.call(lambda: runtime.stats()["Fn"]["invocations"])
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.json() == {"message": "Unauthorized" if status == 401 else "Forbidden"}
    assert www_authenticate in response.headers["www-authenticate"]
    assert response.headers["apigw-requestid"]
    assert loop_thread.call(lambda: runtime.stats()["Fn"]["invocations"]) == before
    assert client.get("/public").status_code == 200
