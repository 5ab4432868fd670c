"""Registration, login, refresh, and the gateway's JWT authorizer, over real HTTP."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.users import PASSWORD, error_code, unique_email


def test_register_login_and_refresh(api):
    email = unique_email("refresh")
    created = api.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "Ann", "role": "buyer"})
    assert created.status_code == 201
    assert created.json() == {
        "userId": created.json()["userId"], "email": email, "name": "Ann", "role": "buyer", "emailVerified": False,
        "verificationCodeSentTo": {"destination": created.json()["verificationCodeSentTo"]["destination"],
                                   "deliveryMedium": "EMAIL"},
    }  # fmt: skip

    login = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    tokens = login.json()
    assert {"accessToken", "idToken", "refreshToken", "expiresIn"} <= tokens.keys()
    assert tokens["expiresIn"] > 0

    refreshed = api.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["accessToken"]
    claims = jwt.decode(refreshed.json()["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == created.json()["userId"]


def test_seller_is_in_the_sellers_group(api, seller):
    claims = jwt.decode(seller.access_token, options={"verify_signature": False})
    assert "sellers" in claims["cognito:groups"]


def test_weak_password_is_refused_naming_the_policy(api):
    response = api.post(
        "/auth/register", json={"email": unique_email("weak"), "password": "short", "name": "W", "role": "buyer"}
    )
    assert response.status_code == 422
    assert error_code(response) == "WEAK_PASSWORD"
    assert "8" in response.json()["error"]["message"]


def test_existing_email_conflicts(api, buyer):
    response = api.post(
        "/auth/register", json={"email": buyer.email, "password": PASSWORD, "name": "Again", "role": "buyer"}
    )
    assert response.status_code == 409
    assert error_code(response) == "EMAIL_ALREADY_REGISTERED"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD, "name": "X", "role": "buyer"},
        {"email": "a@example.com", "password": PASSWORD, "name": "X", "role": "admin"},
        {"email": "a@example.com", "password": PASSWORD, "name": "X"},
    ],
    ids=["bad-email", "admin-role", "no-role"],
)
def test_invalid_registration_is_422(api, body):
    response = api.post("/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_a_body_that_is_not_utf8_is_400_not_500(api, path):
    answer = api.post(path, content=b'{"email": "caf\xe9@example.com", "password": "x"}',
                      headers={"content-type": "application/json"})  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert error_code(answer) == "MALFORMED_JSON"


def test_bad_credentials_get_one_answer_whether_or_not_the_user_exists(api, buyer):
    wrong_password = api.post("/auth/login", json={"email": buyer.email, "password": "Wrong-Passw0rd"})
    no_such_user = api.post("/auth/login", json={"email": unique_email("ghost"), "password": "Wrong-Passw0rd"})
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert wrong_password.json() == no_such_user.json()
    assert error_code(wrong_password) == "INVALID_CREDENTIALS"


def test_bad_refresh_token_is_401(api):
    response = api.post("/auth/refresh", json={"refreshToken": "not-a-token"})
    assert response.status_code == 401


# -- the JWT authorizer: forged tokens ------------------------------------------------------------------
# Who may call what with a genuine token is tests/integration/accounts/test_authorization_matrix.py.

PROTECTED = "/orders"  # a buyer's read-only route behind the authorizer: 200 with the buyer's own token


def _pool_key():
    """The private key the local pool signs with: moto ships it, so only the local cloud can be forged this way."""
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    jwk = json.loads(gzip.decompress(path.read_bytes()))
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk)), jwk["kid"]


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _resigned(token: str, key=None, **changes) -> str:
    """The token's claims with `changes`, signed RS256 by `key` (the pool's own by default) under the pool's kid."""
    pool_key, kid = _pool_key()
    return jwt.encode({**_claims(token), **changes}, key or pool_key, algorithm="RS256", headers={"kid": kid})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(token: str, stack) -> str:
    """alg none: the genuine claims, no signature at all."""
    header = {"alg": "none", "typ": "JWT", "kid": jwt.get_unverified_header(token)["kid"]}
    return f"{_b64(header)}.{_b64(_claims(token))}."


def _tampered(token: str, stack) -> str:
    """The genuine header and signature over a payload that now claims the admins group."""
    header, _, signature = token.split(".")
    return f"{header}.{_b64({**_claims(token), 'cognito:groups': ['admins']})}.{signature}"


def _hmac(token: str, stack) -> str:
    """Algorithm confusion: HS256, whose key an attacker picks (an authorizer keyed by the pool's public JWKS
    for HMAC would accept it)."""
    return jwt.encode(_claims(token), "any secret the forger likes, long enough for HS256", algorithm="HS256",
                      headers={"kid": jwt.get_unverified_header(token)["kid"]})  # fmt: skip


def _another_pools_token(token: str, stack) -> str:
    """A genuine token of a second user pool on the same Cognito."""
    cognito = stack.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:12]}", UsernameAttributes=["email"])
    pool_id = pool["UserPool"]["Id"]
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="other", ExplicitAuthFlows=flows)
    client_id = client["UserPoolClient"]["ClientId"]
    email = unique_email("otherpool")
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    return str(cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]["AccessToken"])  # fmt: skip


def _stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# Each forgery of a genuine access token, and whether it needs the local pool's private key.
FORGERIES = {
    "garbage": (lambda token, stack: "abc.def.ghi", False),
    "alg none": (_unsigned, False),
    "tampered payload, original signature": (_tampered, False),
    "hs256": (_hmac, False),
    "signed by a stranger's key": (lambda token, stack: _resigned(token, _stranger_key()), False),
    "another pool's token": (_another_pools_token, False),
    "wrong issuer": (lambda token, stack: _resigned(token, iss=_claims(token)["iss"] + "x"), True),
    "wrong audience": (lambda token, stack: _resigned(token, client_id="someone-else"), True),
    "expired": (lambda token, stack: _resigned(token, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
                True),
    "not valid yet": (lambda token, stack: _resigned(token, nbf=int(time.time()) + 3600), True),
}  # fmt: skip


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_token_is_401_from_the_gateway(api, stack, buyer, forgery):
    forge, needs_pool_key = FORGERIES[forgery]
    if needs_pool_key and not stack.local:
        pytest.skip("re-signing with the pool's own key needs the local cloud's Cognito")
    answer = api.get(PROTECTED, headers={"Authorization": f"Bearer {forge(buyer.access_token, stack)}"})
    assert answer.status_code == 401, answer.text
    assert answer.json() == {"message": "Unauthorized"}  # API Gateway's own answer: no function ran
    assert answer.headers["www-authenticate"].startswith('Bearer scope="" error="invalid_token" error_description=')


def test_no_token_is_401_with_a_bare_challenge(api):
    answer = api.get(PROTECTED)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_token_re_signed_unchanged_is_accepted(api, local_only, buyer):
    """The forgeries above fail for their one change: the genuine token, and its claims re-signed unchanged with
    the pool's key, are accepted."""
    assert api.get(PROTECTED, headers=buyer.auth).status_code == 200
    assert api.get(PROTECTED, headers={"Authorization": f"Bearer {_resigned(buyer.access_token)}"}).status_code == 200
