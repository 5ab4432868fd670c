"""Whether a caller has proved they own their email address, and the rule that sellers must before listing.

Where the truth comes from: API Gateway has verified the caller's JWT, but only ID tokens carry an
`email_verified` claim; access tokens (what the API asks clients to send) carry none. So:

- an ID token whose claim says true is trusted: Cognito signed it;
- otherwise, with an access token, the user pool is asked (GetUser, authorized by that very token: no IAM
  permission, and never staler than the request);
- an ID token that says false (or nothing) is taken at its word: it may be up to an hour old (the tokens'
  lifetime), so a user who verified since then refreshes their tokens or sends the access token.

The price of asking the pool is one Cognito call per listing request from an access token, and only while the
rule is on; Cognito's per-account rate quota for GetUser is shared by every user, which is why the rule asks
only sellers who are about to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from shop import aws, config
from shop.errors import AccountDeletedError, EmailNotVerifiedError, TooManyRequestsError, UnauthorizedError
from shop.identity import Caller


def require_verified_seller_email(caller: Caller, event: Mapping[str, Any]) -> None:
    """403 EMAIL_NOT_VERIFIED for a seller with an unverified email when the stack requires verification.

    Callers who are not sellers pass: their own refusal (403 FORBIDDEN) comes from the listing code."""
    if not caller.is_seller or not config.require_verified_seller_email():
        return
    if not email_verified(_claims(event), bearer_token(event)):
        raise EmailNotVerifiedError()


def email_verified(claims: Mapping[str, Any], bearer_token: str | None) -> bool:
    """Whether the caller's email is verified, from the token's claims or, for an access token, the pool."""
    if str(claims.get("email_verified", "")).lower() == "true":
        return True
    if claims.get("token_use") != "access" or not bearer_token:
        return False
    try:
        answer = aws.cognito().get_user(AccessToken=bearer_token)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "NotAuthorizedException":  # revoked (global sign-out) or the user was disabled
            raise UnauthorizedError() from error
        if code == "UserNotFoundException":  # the account was deleted while its token lives on
            raise AccountDeletedError() from error
        if code in ("TooManyRequestsException", "LimitExceededException"):
            raise TooManyRequestsError() from error
        raise
    attributes = {attribute["Name"]: attribute["Value"] for attribute in answer.get("UserAttributes", [])}
    return attributes.get("email_verified") == "true"


def _claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    claims: Any = event
    for key in ("requestContext", "authorizer", "jwt", "claims"):
        claims = claims.get(key) if isinstance(claims, Mapping) else None
    return claims if isinstance(claims, Mapping) else {}


def bearer_token(event: Mapping[str, Any]) -> str | None:
    """The token from the Authorization header (HTTP API lower-cases header names; "Bearer" is optional)."""
    headers = event.get("headers") or {}
    value = next((text for name, text in headers.items() if name.lower() == "authorization"), None)
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else value.strip() or None
