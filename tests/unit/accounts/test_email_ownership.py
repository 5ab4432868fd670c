"""The rule that sellers list only with a verified email (shop.accounts.email_ownership), against moto's
Cognito with the local cloud's verification flow."""

from __future__ import annotations

import re

import pytest
from moto.ses.models import ses_backends

from shop import accounts, config
from shop.accounts.schemas import Credentials, Registration
from shop.config import ConfigurationError
from shop.errors import EmailNotVerifiedError
from shop.identity import caller_from_claims
from tests.unit.accounts.test_accounts_cognito import PASSWORD, user_pool

__all__ = ["user_pool"]


def _event(token: str, claims: dict[str, str]) -> dict[str, object]:
    return {"headers": {"authorization": f"Bearer {token}"},
            "requestContext": {"authorizer": {"jwt": {"claims": claims}}}}  # fmt: skip


def _seller_with_access_token() -> tuple[str, dict[str, str]]:
    accounts.register(Registration(email="sam@example.com", password=PASSWORD, name="Sam", role="seller"))
    token = accounts.login(Credentials(email="sam@example.com", password=PASSWORD)).access_token
    return token, {"sub": "sam", "token_use": "access", "cognito:groups": "[sellers]"}


def _check(token: str, claims: dict[str, str]) -> None:
    caller = caller_from_claims(claims)
    assert caller is not None
    accounts.require_verified_seller_email(caller, _event(token, claims))


@pytest.fixture
def required(monkeypatch):
    monkeypatch.setenv("REQUIRE_VERIFIED_SELLER_EMAIL", "true")


def test_when_off_an_unverified_seller_passes(user_pool, monkeypatch):
    monkeypatch.setenv("REQUIRE_VERIFIED_SELLER_EMAIL", "false")
    token, claims = _seller_with_access_token()
    _check(token, claims)


def test_when_on_the_pool_decides_for_an_access_token(user_pool, required):
    token, claims = _seller_with_access_token()
    with pytest.raises(EmailNotVerifiedError):
        _check(token, claims)
    (message,) = ses_backends["123456789012"]["us-east-1"].sent_messages
    accounts.verify_email(token, re.findall(r"\d{6}", message.body)[0])
    _check(token, claims)


def test_when_on_an_id_token_is_taken_at_its_word(required):
    # No user pool at all: a signed claim that says true needs no lookup; one that says false is refused.
    id_claims = {"sub": "sam", "token_use": "id", "cognito:groups": "[sellers]"}
    _check("an-id-token", {**id_claims, "email_verified": "true"})
    with pytest.raises(EmailNotVerifiedError):
        _check("an-id-token", {**id_claims, "email_verified": "false"})
    with pytest.raises(EmailNotVerifiedError):
        _check("an-id-token", id_claims)


def test_when_on_a_buyer_is_left_to_the_listing_codes_own_refusal(required):
    _check("a-token", {"sub": "bob", "token_use": "access", "cognito:groups": "[buyers]"})


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("", False), ("false", False), ("TRUE", True)])
def test_the_setting_defaults_to_off(value, expected):
    assert (
        config.require_verified_seller_email({} if value is None else {"REQUIRE_VERIFIED_SELLER_EMAIL": value})
        is expected
    )


def test_a_setting_that_is_neither_true_nor_false_is_a_deployment_bug():
    with pytest.raises(ConfigurationError):
        config.require_verified_seller_email({"REQUIRE_VERIFIED_SELLER_EMAIL": "yes"})


@pytest.mark.parametrize(
    ("header", "token"), [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("abc", "abc"), ("", None)]
)
def test_the_bearer_token_is_read_as_the_gateway_reads_it(header, token):
    assert accounts.bearer_token({"headers": {"Authorization": header}}) == token
