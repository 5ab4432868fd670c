"""Sign-up, sign-in and token refresh: what clients send and what they get back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shop.validation import RequestModel, Text, ViewModel

# Deliberately loose (a dot in the domain, no spaces, one @): Cognito is the final judge of an address.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$"

Email = Annotated[
    str,
    Text(3, 254, case="lower", pattern=EMAIL_PATTERN, pattern_message="Value should be an email address"),
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
    email: Email
    password: Password


class RefreshRequest(RequestModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]


class Account(ViewModel):
    user_id: str = Field(description="The user's stable id (Cognito sub).")
    email: str
    name: str
    role: SelfServiceRole


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
