"""Accounts API: register, sign in, refresh tokens, verify the email address and read one's own account
(the Cognito user pool)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import accounts, http
from shop.accounts.schemas import (
    Credentials,
    EmailVerification,
    NewAccount,
    Profile,
    RefreshedTokens,
    RefreshRequest,
    Registration,
    Tokens,
    VerificationCode,
)
from shop.errors import UnauthorizedError

logger = Logger()
app = http.create_app()


@app.post(
    "/auth/register",
    status_code=201,
    summary="Create an account as a buyer or a seller",
    tags=["accounts"],
    responses=http.documented_responses(
        201, "The new account, ready to sign in; a code to verify the email is on its way", [400, 409, 422]
    ),
)
def register(registration: Annotated[Registration, Body()]) -> Response[NewAccount]:
    return http.created(accounts.register(registration))


@app.post(
    "/auth/login",
    summary="Sign in with email and password",
    tags=["accounts"],
    responses=http.documented_responses(
        200, "Tokens; send the access token as 'Authorization: Bearer'", [400, 401, 422]
    ),
)
def login(credentials: Annotated[Credentials, Body()]) -> Tokens:
    return accounts.login(credentials)


@app.post(
    "/auth/refresh",
    summary="New access and ID tokens for a refresh token",
    tags=["accounts"],
    responses=http.documented_responses(200, "Fresh tokens", [400, 401, 422]),
)
def refresh(request: Annotated[RefreshRequest, Body()]) -> RefreshedTokens:
    return accounts.refresh(request.refresh_token)


@app.get(
    "/me",
    summary="The signed-in user's account, with whether their email is verified",
    tags=["accounts"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The account", [401]),
)
def me() -> Profile:
    return accounts.profile(http.authenticated_caller(app), _access_token())


@app.post(
    "/auth/verify-email",
    summary="Verify the email address with the code sent to it",
    tags=["accounts"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The address is verified", [400, 401, 422, 429]),
)
def verify_email(request: Annotated[VerificationCode, Body()]) -> EmailVerification:
    return accounts.verify_email(_access_token(), request.code)


@app.post(
    "/auth/verify-email/resend",
    summary="Email a new verification code (it replaces the previous one)",
    tags=["accounts"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "Where the code went, or that the address is verified", [401, 429]),
)
def resend_verification_code() -> EmailVerification:
    return accounts.resend_email_code(_access_token())


def _access_token() -> str:
    http.authenticated_caller(app)  # 401 unless the gateway's authorizer accepted a token
    token = accounts.bearer_token(app.current_event.raw_event)
    if token is None:
        raise UnauthorizedError()
    return token


# Never log the event here: its body holds passwords and tokens.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
