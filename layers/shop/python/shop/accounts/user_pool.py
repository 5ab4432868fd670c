"""User accounts in the Cognito user pool: register, sign in, refresh tokens.

The pool uses the email address as the username. Registration confirms the account at once
(AdminConfirmSignUp): there is no email verification step, neither locally nor on AWS, so a new user can
sign in straight away. The role is the Cognito group the user is put in (sellers or buyers); the group
reaches every other function through the `cognito:groups` claim of the user's tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from shop import aws
from shop.accounts.schemas import Account, Credentials, RefreshedTokens, Registration, Tokens
from shop.config import ConfigurationError, settings
from shop.errors import (
    EmailAlreadyRegisteredError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    ShopError,
    TooManyRequestsError,
    ValidationFailedError,
    WeakPasswordError,
)
from shop.identity import BUYERS, SELLERS

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


def register(registration: Registration) -> Account:
    """Create a confirmed account in the role's group; 409 if the email is taken, 422 if the password is weak."""
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
    return Account(
        user_id=signed_up["UserSub"], email=registration.email, name=registration.name, role=registration.role
    )


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
    if meaning is None and code in ("TooManyRequestsException", "LimitExceededException"):
        meaning = TooManyRequestsError()
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
