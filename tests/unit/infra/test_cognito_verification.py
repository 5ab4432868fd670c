"""infra.cognito.verification: the email verification flow moto lacks, with codes mailed through moto's SES."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.ses.models import ses_backends

from infra.cognito import verification
from tests.support.cognito import install_verification

PASSWORD = "Correct-Horse-9"


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    install_verification(monkeypatch)
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="us-east-1")


def _signed_in(cognito: Any, email: str = "ann@example.com", **pool: Any) -> tuple[str, str, str]:
    """(pool id, access token, id token) of a confirmed user, as the shop registers them."""
    pool_id = cognito.create_user_pool(
        PoolName="users", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"], **pool
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="api", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.sign_up(
        ClientId=client_id, Username=email, Password=PASSWORD, UserAttributes=[{"Name": "email", "Value": email}]
    )
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    tokens = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]
    return pool_id, tokens["AccessToken"], tokens["IdToken"]


def _email_verified(cognito: Any, access_token: str) -> str:
    attributes = cognito.get_user(AccessToken=access_token)["UserAttributes"]
    return next(a["Value"] for a in attributes if a["Name"] == "email_verified")


def _mailed_codes(to: str) -> list[str]:
    messages = ses_backends["123456789012"]["us-east-1"].sent_messages
    return [re.findall(r"\d{6}", m.body)[0] for m in messages if to in m.destinations["ToAddresses"]]


def _error(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_a_new_user_is_unverified_and_says_so_in_get_user_and_the_id_token(cognito):
    _, access_token, id_token = _signed_in(cognito)
    assert _email_verified(cognito, access_token) == "false"
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["email"], claims["email_verified"]) == ("ann@example.com", "false")


def test_the_mailed_code_verifies_the_email_and_a_wrong_one_does_not(cognito):
    _, token, _ = _signed_in(
        cognito, VerificationMessageTemplate={"EmailSubject": "Your shop code", "EmailMessage": "Code: {####}"}
    )
    sent = cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    assert sent["CodeDeliveryDetails"] == {
        "Destination": "a***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    message = ses_backends["123456789012"]["us-east-1"].sent_messages[-1]
    assert message.subject == "Your shop code" and message.source == verification.DEFAULT_SENDER
    (code,) = _mailed_codes("ann@example.com")
    assert message.body == f"Code: {code}"
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ClientError) as raised:
        cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=wrong)
    assert _error(raised) == "CodeMismatchException"
    assert _email_verified(cognito, token) == "false"
    cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert _email_verified(cognito, token) == "true"


def test_a_new_code_replaces_the_previous_one(cognito):
    _, token, _ = _signed_in(cognito)
    cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    first, second = _mailed_codes("ann@example.com")
    if first != second:
        with pytest.raises(ClientError) as raised:
            cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=first)
        assert _error(raised) == "CodeMismatchException"
    cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=second)
    assert _email_verified(cognito, token) == "true"


def test_an_expired_code_is_refused_as_expired(cognito):
    _, token, _ = _signed_in(cognito)
    cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    (code,) = _mailed_codes("ann@example.com")
    for pending in verification._CODES.pending.values():
        pending.issued_at -= verification.CODE_LIFETIME_SECONDS + 1
    with pytest.raises(ClientError) as raised:
        cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert _error(raised) == "ExpiredCodeException"


def test_too_many_wrong_codes_stop_the_code_and_too_many_requests_are_refused(cognito):
    _, token, _ = _signed_in(cognito)
    cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    (code,) = _mailed_codes("ann@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(verification.MAX_FAILED_ATTEMPTS):
        with pytest.raises(ClientError):
            cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=wrong)
    with pytest.raises(ClientError) as raised:
        cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert _error(raised) == "LimitExceededException"
    for _ in range(verification.MAX_CODES_PER_HOUR - 1):
        cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    with pytest.raises(ClientError) as raised:
        cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    assert _error(raised) == "LimitExceededException"
    assert len(_mailed_codes("ann@example.com")) == verification.MAX_CODES_PER_HOUR


def test_an_unknown_access_token_is_not_authorized(cognito):
    _signed_in(cognito)
    with pytest.raises(ClientError) as raised:
        cognito.get_user_attribute_verification_code(AccessToken="not-a-token", AttributeName="email")
    assert _error(raised) == "NotAuthorizedException"


def test_the_mailbox_route_lists_the_sent_messages(cognito):
    _, token, _ = _signed_in(cognito)
    cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    status, headers, body = verification._sent_messages(None, "", {})
    messages = json.loads(body)["messages"]
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert messages[-1]["destinations"] == {"ToAddresses": ["ann@example.com"]}
    assert re.fullmatch(r"Your verification code is \d{6}\. ", messages[-1]["body"])
