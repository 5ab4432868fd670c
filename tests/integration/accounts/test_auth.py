"""Registration, login, refresh, and the gateway's JWT authorizer, over real HTTP."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.users import PASSWORD, error_code, new_item, register, unique_email


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


# -- the JWT authorizer ------------------------------------------------------------------------------


def _post_item(api, headers):
    return api.post("/items", json=new_item(), headers=headers)


def test_anonymous_create_is_401_without_reaching_the_function(api):
    response = _post_item(api, {})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_buyer_cannot_create_items(api, buyer):
    response = _post_item(api, buyer.auth)
    assert response.status_code == 403
    assert error_code(response) == "FORBIDDEN"


def test_garbage_token_is_401(api):
    assert _post_item(api, {"Authorization": "Bearer abc.def.ghi"}).status_code == 401


def _moto_private_key():
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    jwk = json.loads(gzip.decompress(path.read_bytes()))
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk)), jwk["kid"]


def _resigned(token: str, key, kid: str, **changes) -> str:
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_expired_token_is_401(api, local_only, seller):
    key, kid = _moto_private_key()
    now = int(time.time())
    expired = _resigned(seller.access_token, key, kid, iat=now - 7200, exp=now - 3600)
    assert _post_item(api, {"Authorization": f"Bearer {expired}"}).status_code == 401
    # the same claims, re-signed with the pool's key but still valid, are accepted: only expiry differs
    fresh = _resigned(seller.access_token, key, kid, exp=now + 600)
    assert _post_item(api, {"Authorization": f"Bearer {fresh}"}).status_code == 201


def test_forged_token_is_401(api, seller):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _, kid = _moto_private_key()
    forged = _resigned(seller.access_token, other_key, kid)
    assert _post_item(api, {"Authorization": f"Bearer {forged}"}).status_code == 401


def test_token_from_another_user_pool_is_401(api, stack):
    cognito = stack.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"other-{int(time.time() * 1000)}", UsernameAttributes=["email"])[
        "UserPool"
    ]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    email = unique_email("otherpool")
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username=email)
    token = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]["AccessToken"]
    assert _post_item(api, {"Authorization": f"Bearer {token}"}).status_code == 401


def test_seller_registered_through_the_api_can_create(api):
    seller = register(api, "seller")
    assert _post_item(api, seller.auth).status_code == 201
