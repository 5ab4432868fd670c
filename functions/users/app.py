"""Accounts API: register, sign in and refresh tokens against the Cognito user pool."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import accounts, http
from shop.accounts.schemas import Account, Credentials, RefreshedTokens, RefreshRequest, Registration, Tokens

logger = Logger()
app = http.create_app()


@app.post(
    "/auth/register",
    status_code=201,
    summary="Create an account as a buyer or a seller",
    tags=["accounts"],
    responses=http.documented_responses(201, "The new account, ready to sign in", [400, 409, 422]),
)
def register(registration: Annotated[Registration, Body()]) -> Response[Account]:
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


# Never log the event here: its body holds passwords and tokens.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
