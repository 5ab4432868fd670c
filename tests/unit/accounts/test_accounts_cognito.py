"""Accounts against moto's in-process Cognito, set up as template.yaml sets up the user pool."""

from __future__ import annotations

import boto3
import jwt
import pytest
from moto import mock_aws

from infra.cloudformation.template import load_template
from shop import accounts
from shop.accounts.schemas import Credentials, Registration
from shop.errors import (
    EmailAlreadyRegisteredError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    WeakPasswordError,
)
from tests.support.cognito import install_verification
from tests.unit.shop.apigw_events import ROOT, http_event, load_handler, response_json

PASSWORD = "Correct-Horse-9"
RESOURCES = load_template(ROOT / "template.yaml")["Resources"]


@pytest.fixture
def user_pool(monkeypatch):
    install_verification(monkeypatch)  # the local cloud's GetUserAttributeVerificationCode, which moto lacks
    pool = RESOURCES["UserPool"]["Properties"]
    client = RESOURCES["UserPoolClient"]["Properties"]
    with mock_aws():
        cognito = boto3.client("cognito-idp")
        pool_id = cognito.create_user_pool(
            PoolName="users",
            UsernameAttributes=pool["UsernameAttributes"],
            AutoVerifiedAttributes=pool["AutoVerifiedAttributes"],
            Policies=pool["Policies"],
            Schema=pool["Schema"],
        )["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="api",
            ExplicitAuthFlows=client["ExplicitAuthFlows"],
            PreventUserExistenceErrors=client["PreventUserExistenceErrors"],
        )["UserPoolClient"]["ClientId"]
        for group in ("sellers", "buyers", "admins"):
            cognito.create_group(UserPoolId=pool_id, GroupName=group)
        monkeypatch.setenv("USER_POOL_ID", pool_id)
        monkeypatch.setenv("USER_POOL_CLIENT_ID", client_id)
        yield cognito, pool_id


def registration(**overrides):
    body = {"email": "ann@example.com", "password": PASSWORD, "name": "Ann", "role": "seller", **overrides}
    return Registration.model_validate(body)


def test_register_confirms_the_user_in_the_roles_group(user_pool):
    cognito, pool_id = user_pool
    account = accounts.register(registration())
    assert (account.email, account.name, account.role) == ("ann@example.com", "Ann", "seller")
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="ann@example.com")
    assert user["UserStatus"] == "CONFIRMED"
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username="ann@example.com")["Groups"]
    assert [group["GroupName"] for group in groups] == ["sellers"]


def test_login_gives_tokens_whose_subject_is_the_user_id(user_pool):
    account = accounts.register(registration(role="buyer"))
    tokens = accounts.login(Credentials(email="ann@example.com", password=PASSWORD))
    assert tokens.token_type == "Bearer" and tokens.expires_in > 0 and tokens.refresh_token
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    assert claims["sub"] == account.user_id and claims["cognito:groups"] == ["buyers"]

    refreshed = accounts.refresh(tokens.refresh_token)
    assert jwt.decode(refreshed.id_token, options={"verify_signature": False})["sub"] == account.user_id


def test_emails_are_case_insensitive(user_pool):
    accounts.register(registration(email="Ann@Example.COM"))
    with pytest.raises(EmailAlreadyRegisteredError):
        accounts.register(registration(email="ann@example.com"))
    assert accounts.login(Credentials(email="ANN@example.com", password=PASSWORD)).access_token


@pytest.mark.parametrize("password", ["short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere"])
def test_weak_passwords_are_refused_naming_the_policy(user_pool, password):
    with pytest.raises(WeakPasswordError) as refused:
        accounts.register(registration(password=password))
    assert "at least 8 characters" in refused.value.message
    assert refused.value.details["policy"]["minimumLength"] == 8


def test_wrong_password_and_unknown_user_look_the_same(user_pool):
    accounts.register(registration())
    with pytest.raises(InvalidCredentialsError) as wrong_password:
        accounts.login(Credentials(email="ann@example.com", password="Wrong-Passw0rd"))
    with pytest.raises(InvalidCredentialsError) as unknown_user:
        accounts.login(Credentials(email="ghost@example.com", password="Wrong-Passw0rd"))
    assert wrong_password.value.body() == unknown_user.value.body()


def test_bad_refresh_token_is_refused(user_pool):
    with pytest.raises(InvalidRefreshTokenError):
        accounts.refresh("not-a-token")


def test_password_policy_matches_the_template():
    policy = RESOURCES["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    assert {key[0].lower() + key[1:]: value for key, value in policy.items()} == accounts.PASSWORD_POLICY


# ---------------------------------------------------------------- through the handler
def call(path, body, context):
    return load_handler("users").lambda_handler(http_event("POST", path, json_body=body), context)


def test_handler_register_login_refresh(user_pool, lambda_context):
    body = {"email": "bob@example.com", "password": PASSWORD, "name": " Bob  Smith ", "role": "buyer"}
    created = call("/auth/register", body, lambda_context)
    assert created["statusCode"] == 201
    account = response_json(created)
    assert account == {
        "userId": account["userId"], "email": "bob@example.com", "name": "Bob Smith", "role": "buyer",
        "emailVerified": False, "verificationCodeSentTo": {"destination": "b***@e***", "deliveryMedium": "EMAIL"},
    }  # fmt: skip

    login = call("/auth/login", {"email": "bob@example.com", "password": PASSWORD}, lambda_context)
    assert login["statusCode"] == 200
    tokens = response_json(login)
    assert set(tokens) == {"accessToken", "idToken", "refreshToken", "expiresIn", "tokenType"}

    refreshed = call("/auth/refresh", {"refreshToken": tokens["refreshToken"]}, lambda_context)
    assert refreshed["statusCode"] == 200
    assert set(response_json(refreshed)) == {"accessToken", "idToken", "expiresIn", "tokenType"}


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field"),
    [
        (
            "/auth/register",
            {"email": "x", "password": PASSWORD, "name": "X", "role": "buyer"},
            422,
            "VALIDATION_FAILED",
            "email",
        ),
        (
            "/auth/register",
            {"email": "x@example.com", "password": PASSWORD, "name": "X", "role": "admin"},
            422,
            "VALIDATION_FAILED",
            "role",
        ),
        (
            "/auth/register",
            {"email": "x@example.com", "password": PASSWORD, "name": "X"},
            422,
            "VALIDATION_FAILED",
            "role",
        ),
        (
            "/auth/register",
            {"email": "x@example.com", "password": "weak", "name": "X", "role": "buyer"},
            422,
            "WEAK_PASSWORD",
            None,
        ),
        ("/auth/login", {"email": "nobody@example.com", "password": PASSWORD}, 401, "INVALID_CREDENTIALS", None),
        ("/auth/refresh", {"refreshToken": "garbage"}, 401, "INVALID_REFRESH_TOKEN", None),
        ("/auth/refresh", {"refreshToken": ""}, 422, "VALIDATION_FAILED", "refreshToken"),
    ],
    ids=["bad-email", "admin-role", "no-role", "weak-password", "unknown-user", "bad-refresh", "empty-refresh"],
)
def test_handler_errors(user_pool, lambda_context, path, body, status, code, field):
    response = call(path, body, lambda_context)
    assert response["statusCode"] == status
    error = response_json(response)["error"]
    assert error["code"] == code
    if field:
        assert field in [entry["field"] for entry in error["details"]["fields"]]
    if code == "WEAK_PASSWORD":
        assert "8" in error["message"]


def test_handler_never_logs_passwords(user_pool, lambda_context, capsys, caplog):
    call("/auth/login", {"email": "nobody@example.com", "password": "Secret-Passw0rd"}, lambda_context)
    assert "Secret-Passw0rd" not in capsys.readouterr().out + caplog.text
