"""Accounts API: register, sign in, refresh tokens, verify the email address (the Cognito user pool); read and
change one's own profile and address book (the Profiles table); delete one's account (DELETE /me)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import accounts, events, http
from shop.accounts.schemas import (
    AddressBook,
    AddressChange,
    AddressView,
    Credentials,
    EmailVerification,
    NewAccount,
    NewAddress,
    ProfileChange,
    ProfileView,
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
    tokens = accounts.login(credentials)
    visitor_id = http.anonymous_visitor(app)
    if visitor_id:  # what the visitor did before signing in becomes the account's (off the critical path)
        events.emit_behaviour(events.VISITOR_IDENTIFIED, {"visitorId": visitor_id},
                              user_id=accounts.subject_of(tokens.id_token))  # fmt: skip
    return tokens


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
    summary="The signed-in user's account and profile, with whether their email is verified",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The account and profile", [401]),
)
def me() -> ProfileView:
    return accounts.me(http.authenticated_caller(app), _access_token())


@app.patch(
    "/me",
    summary="Change the name or the phone number (the email and emailVerified are not changed here)",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The account and profile after the change", [400, 401, 422]),
)
def change_me(change: Annotated[ProfileChange, Body()]) -> ProfileView:
    return accounts.change_me(http.authenticated_caller(app), _access_token(), change)


@app.delete(
    "/me",
    summary="Delete the account: sign-in, profile and addresses go, orders stay anonymised",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(204, "Deleted (a retry after a failure finishes the deletion)", [401]),
)
def delete_me() -> Response[None]:
    accounts.delete_me(http.authenticated_caller(app), _access_token())
    return Response(status_code=204)


AddressId = Annotated[str, Path(alias="addressId", description="The address's id (adr_...).", max_length=64)]


@app.get(
    "/me/addresses",
    summary="The address book, oldest first, with the default marked",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The addresses", [401]),
)
def list_addresses() -> AddressBook:
    return accounts.address_book(http.authenticated_caller(app).user_id)


@app.post(
    "/me/addresses",
    status_code=201,
    summary="Add a shipping address (checked against its country's rules)",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(201, "The new address", [400, 401, 409, 422]),
)
def add_address(address: Annotated[NewAddress, Body()]) -> Response[AddressView]:
    added = accounts.add_address(http.authenticated_caller(app).user_id, address)
    return http.created(added, location=f"/me/addresses/{added.address_id}")


@app.get(
    "/me/addresses/<addressId>",
    summary="One address",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The address", [401, 404, 422]),
)
def get_address(address_id: AddressId) -> AddressView:
    return accounts.get_address(http.authenticated_caller(app).user_id, address_id)


@app.patch(
    "/me/addresses/<addressId>",
    summary="Change an address or make it the default",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(200, "The address after the change", [400, 401, 404, 409, 422]),
)
def change_address(address_id: AddressId, change: Annotated[AddressChange, Body()]) -> AddressView:
    return accounts.change_address(http.authenticated_caller(app).user_id, address_id, change)


@app.delete(
    "/me/addresses/<addressId>",
    summary="Delete an address (the oldest remaining one becomes the default if it was)",
    tags=["profile"],
    security=http.BEARER_AUTH,
    responses=http.documented_responses(204, "Deleted", [401, 404, 409, 422]),
)
def delete_address(address_id: AddressId) -> Response[None]:
    accounts.delete_address(http.authenticated_caller(app).user_id, address_id)
    return Response(status_code=204)


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
