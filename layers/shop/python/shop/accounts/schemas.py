"""Sign-up, sign-in and token refresh: what clients send and what they get back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shop.identity import Role
from shop.validation import RequestModel, Text, ViewModel

# Signing up takes the addresses the user pool takes as a username: ASCII, a local part starting with a letter,
# digit or underscore, a top-level domain of two letters or more. The loose pattern below let the schema promise
# addresses that sign-up then refused with Cognito's own 422.
EMAIL_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
# Signing in checks loosely (a dot in the domain, no spaces, one @): an account made before the rule above, or by
# an operator, must still be able to sign in; an unknown address is 401 INVALID_CREDENTIALS either way. Its
# schema shows the sign-up pattern: the loose one allows invisible characters that normalising then removes.
SIGN_IN_EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$"

Email = Annotated[
    str,
    Text(3, 254, case="lower", pattern=EMAIL_PATTERN, pattern_message="Value should be an email address"),
    Field(description="Lower-cased."),
]
SignInEmail = Annotated[
    str,
    Text(
        3,
        254,
        case="lower",
        pattern=SIGN_IN_EMAIL_PATTERN,
        documented_pattern=EMAIL_PATTERN,
        pattern_message="Value should be an email address",
    ),
    Field(description="Lower-cased."),
]
# Passwords are taken as typed: normalising them would change what the user has to type next time.
Password = Annotated[str, Field(min_length=1, max_length=256)]
PersonName = Annotated[str, Text(1, 200)]
SelfServiceRole = Literal["buyer", "seller"]  # admins are made by an operator, never through the API


class Registration(RequestModel):
    email: Email
    password: Password
    name: PersonName
    role: SelfServiceRole


class Credentials(RequestModel):
    email: SignInEmail
    password: Password


class RefreshRequest(RequestModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]


class VerificationCode(RequestModel):
    code: Annotated[
        str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="The code from the email.")
    ]


class CodeDelivery(ViewModel):
    destination: str = Field(description="Where the code went, masked (e.g. a***@e***).")
    delivery_medium: str = Field(description="EMAIL.")


class Account(ViewModel):
    user_id: str = Field(description="The user's stable id (Cognito sub).")
    email: str
    name: str
    role: SelfServiceRole
    email_verified: bool = Field(description="Whether the user proved they own the address (a code sent to it).")


class NewAccount(Account):
    verification_code_sent_to: CodeDelivery | None = Field(
        description="Where the email verification code went; null if it could not be sent (ask for a new one)."
    )


class Profile(ViewModel):
    """GET /me: the signed-in user as the user pool knows them."""

    user_id: str
    email: str
    name: str | None
    role: Role
    email_verified: bool


class EmailVerification(ViewModel):
    email_verified: bool
    verification_code_sent_to: CodeDelivery | None = Field(
        default=None, description="Where a new code went (resend only; null when the address is already verified)."
    )


class Tokens(ViewModel):
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int = Field(description="Seconds until the access and ID tokens expire.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret


class RefreshedTokens(ViewModel):
    access_token: str
    id_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
