"""User accounts in the Cognito user pool: register, sign in, refresh tokens.

The pool uses the email address as the username. Registration confirms the account at once
(AdminConfirmSignUp), so a new user can sign in straight away, but the address stays unverified
(email_verified false) until its owner proves it: registration signs the user in once and asks Cognito to
email a code (GetUserAttributeVerificationCode), and the user sends it back (VerifyUserAttribute). Both
Cognito calls are authorized by the user's own access token, not by IAM. Locally the code travels through
moto's SES (infra.cognito.verification) and shows in the local mailbox. The role is the Cognito group the
user is put in (sellers or buyers); the group reaches every other function through the `cognito:groups`
claim of the user's tokens.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import NoReturn

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from shop import aws
from shop.accounts.schemas import (
    CodeDelivery,
    Credentials,
    EmailVerification,
    NewAccount,
    Profile,
    RefreshedTokens,
    Registration,
    Tokens,
)
from shop.config import ConfigurationError, settings
from shop.errors import (
    AccountDeletedError,
    EmailAlreadyRegisteredError,
    ExpiredVerificationCodeError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    InvalidVerificationCodeError,
    ShopError,
    TooManyRequestsError,
    UnauthorizedError,
    ValidationFailedError,
    WeakPasswordError,
)
from shop.identity import BUYERS, SELLERS, Caller

logger = Logger(child=True)

# Mirrors UserPool.Policies.PasswordPolicy in template.yaml (a unit test keeps them equal). Cognito's own
# message does not always name the rules, so clients get them from here.
PASSWORD_POLICY = {
    "minimumLength": 8,
    "requireUppercase": True,
    "requireLowercase": True,
    "requireNumbers": True,
    "requireSymbols": False,
}
POLICY_IN_WORDS = "at least 8 characters, with an upper-case letter, a lower-case letter and a number"

_GROUP_OF_ROLE = {"seller": SELLERS, "buyer": BUYERS}


def register(registration: Registration) -> NewAccount:
    """Create a confirmed account in the role's group and email it a verification code; 409 if the email is
    taken, 422 if the password is weak."""
    pool_id, client_id = _user_pool()
    cognito = aws.cognito()
    try:
        signed_up = cognito.sign_up(
            ClientId=client_id,
            Username=registration.email,
            Password=registration.password,
            UserAttributes=[
                {"Name": "email", "Value": registration.email},
                {"Name": "name", "Value": registration.name},
            ],
        )
    except ClientError as error:
        _raise_translated(
            error,
            {
                "UsernameExistsException": EmailAlreadyRegisteredError(),
                "InvalidPasswordException": WeakPasswordError(
                    f"the password must have {POLICY_IN_WORDS}",
                    details={"policy": PASSWORD_POLICY, "reason": _message(error)},
                ),
                "InvalidParameterException": ValidationFailedError.of_field("body", _message(error), "invalid"),
            },
        )
    try:
        cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=registration.email)
        cognito.admin_add_user_to_group(
            UserPoolId=pool_id, Username=registration.email, GroupName=_GROUP_OF_ROLE[registration.role]
        )
    except ClientError:
        # Undo the sign-up, or the email would stay taken by an account that cannot be used.
        logger.exception("registration failed after sign-up; deleting the half-made user")
        cognito.admin_delete_user(UserPoolId=pool_id, Username=registration.email)
        raise
    return NewAccount(
        user_id=signed_up["UserSub"],
        email=registration.email,
        name=registration.name,
        role=registration.role,
        email_verified=False,
        verification_code_sent_to=_start_email_verification(registration),
    )


def _start_email_verification(registration: Registration) -> CodeDelivery | None:
    """Email the new user a verification code, or None if it could not be sent.

    The account exists and works whatever happens here, so a failure (a sending quota, Cognito busy) is
    logged and the user asks for a code again later (POST /auth/verify-email/resend) instead of the
    registration failing after the account was made.
    """
    try:
        tokens = login(Credentials(email=registration.email, password=registration.password))
        return _send_code(tokens.access_token)
    except (ClientError, ShopError):
        logger.exception("the email verification code of a new account could not be sent")
        return None


def profile(caller: Caller, access_token: str) -> Profile:
    """The signed-in user as the pool knows them now (email_verified is never older than this request)."""
    attributes = _attributes(access_token)
    return Profile(
        user_id=caller.user_id,
        email=attributes.get("email", caller.email or ""),
        name=attributes.get("name"),
        role=caller.role,
        email_verified=attributes.get("email_verified") == "true",
    )


def verify_email(access_token: str, code: str) -> EmailVerification:
    """Prove ownership of the email address with the code sent to it; 422 for a wrong or expired code.

    An address that is verified already answers verified without asking Cognito to check the code, so a
    retried request (the first answer lost) is not refused."""
    if _attributes(access_token).get("email_verified") == "true":
        return EmailVerification(email_verified=True)
    try:
        aws.cognito().verify_user_attribute(AccessToken=access_token, AttributeName="email", Code=code)
    except ClientError as error:
        _raise_translated(
            error,
            {
                "CodeMismatchException": InvalidVerificationCodeError(),
                "ExpiredCodeException": ExpiredVerificationCodeError(),
                "NotAuthorizedException": _access_token_required(),
            },
        )
    return EmailVerification(email_verified=True)


def resend_email_code(access_token: str) -> EmailVerification:
    """Email a new verification code (it replaces the previous one); nothing is sent to a verified address."""
    if _attributes(access_token).get("email_verified") == "true":
        return EmailVerification(email_verified=True)
    return EmailVerification(email_verified=False, verification_code_sent_to=_send_code(access_token))


def _access_token_required() -> UnauthorizedError:
    # Cognito takes only access tokens for a user's own calls: an ID token, or a revoked access token, is refused.
    return UnauthorizedError("send a current access token (not the ID token) as 'Authorization: Bearer'")


def _send_code(access_token: str) -> CodeDelivery:
    try:
        answer = aws.cognito().get_user_attribute_verification_code(AccessToken=access_token, AttributeName="email")
    except ClientError as error:
        _raise_translated(error, {"NotAuthorizedException": _access_token_required()})
    details = answer.get("CodeDeliveryDetails", {})
    return CodeDelivery(
        destination=details.get("Destination", ""), delivery_medium=details.get("DeliveryMedium", "EMAIL")
    )


def _attributes(access_token: str) -> dict[str, str]:
    """The signed-in user's attributes (GetUser, authorized by the user's own access token)."""
    try:
        answer = aws.cognito().get_user(AccessToken=access_token)
    except ClientError as error:
        _raise_translated(error, {"NotAuthorizedException": _access_token_required()})
    return {attribute["Name"]: attribute["Value"] for attribute in answer.get("UserAttributes", [])}


def login(credentials: Credentials) -> Tokens:
    """Tokens for a correct email and password; one 401 for a wrong password and an unknown email alike."""
    _, client_id = _user_pool()
    try:
        answer = aws.cognito().initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": credentials.email, "PASSWORD": credentials.password},
        )
    except ClientError as error:
        # Cognito may tell an unknown user from a wrong password; the client must not be able to.
        wrong = InvalidCredentialsError()
        _raise_translated(
            error,
            {"NotAuthorizedException": wrong, "UserNotFoundException": wrong, "UserNotConfirmedException": wrong},
        )
    result = answer.get("AuthenticationResult")
    if result is None:
        # A challenge (e.g. an operator-created user who must set a new password): nothing the API offers.
        logger.warning("sign-in needs a challenge", extra={"challenge": answer.get("ChallengeName")})
        raise InvalidCredentialsError()
    return Tokens(
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
        refresh_token=result["RefreshToken"],
        expires_in=result["ExpiresIn"],
    )


def subject_of(id_token: str) -> str:
    """The user id (`sub`) an id token names. Read without verifying its signature: only for a token this
    function has just received from Cognito (login), never for one a client sent."""
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


def refresh(refresh_token: str) -> RefreshedTokens:
    """New access and ID tokens for a refresh token that is still valid."""
    _, client_id = _user_pool()
    try:
        answer = aws.cognito().initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )
    except ClientError as error:
        _raise_translated(error, {"NotAuthorizedException": InvalidRefreshTokenError()})
    result = answer["AuthenticationResult"]
    return RefreshedTokens(
        access_token=result["AccessToken"], id_token=result["IdToken"], expires_in=result["ExpiresIn"]
    )


def _raise_translated(error: ClientError, meanings: Mapping[str, ShopError]) -> NoReturn:
    """Raise what a Cognito error means to the client (by error code), or the error itself (a 500)."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    meaning = meanings.get(code)
    if meaning is None and code in (
        "TooManyRequestsException",
        "LimitExceededException",
        "TooManyFailedAttemptsException",
    ):
        meaning = TooManyRequestsError()
    if meaning is None and code == "UserNotFoundException":
        # A call with the user's own token whose user is gone: the account was deleted while the token lives on.
        meaning = AccountDeletedError()
    if meaning is None:
        raise error
    raise meaning from error


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _user_pool() -> tuple[str, str]:
    config = settings()
    if not config.user_pool_id or not config.user_pool_client_id:
        raise ConfigurationError("USER_POOL_ID and USER_POOL_CLIENT_ID must be set for accounts")
    return config.user_pool_id, config.user_pool_client_id
