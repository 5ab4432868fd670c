"""Sign-up, sign-in and token refresh: what clients send and what they get back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import pycountry
from pydantic import ConfigDict, Field

from shop.identity import Role
from shop.validation import RequestModel, Text, ViewModel, null_only_for

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


# ---------------------------------------------------------------- profile and addresses
AddressLine = Annotated[str, Text(1, 200)]
Phone = Annotated[
    str,
    Text(3, 32),
    Field(description="Stored in E.164 (+14155552671); a national number is read in the address's country."),
]


def _nullable_only(*clearable: str) -> Callable[[dict[str, Any], Any], None]:
    """A model's json_schema_extra: null only for the fields that can be cleared (shop.validation.null_only_for)."""
    return lambda schema, _: null_only_for(schema, clearable)


# ISO 3166-1 alpha-2, as the schema's enum (the address validation checks the same list).
COUNTRY_CODES = sorted(country.alpha_2 for country in pycountry.countries)
CountryCode = Annotated[
    str,
    Text(2, 2, case="upper"),
    Field(description="ISO 3166-1 alpha-2, e.g. US, GB, DE.", json_schema_extra={"enum": COUNTRY_CODES}),
]


class ProfileChange(RequestModel):
    """PATCH /me: the fields sent change; `phone: null` removes the phone number."""

    model_config = ConfigDict(json_schema_extra=_nullable_only("phone"))

    name: PersonName | None = None
    phone: Annotated[Phone | None, Field(description="E.164, e.g. +14155552671; null removes it.")] = None


class NewAddress(RequestModel):
    name: Annotated[str, Text(1, 200), Field(description="Who receives the parcel.")]
    line1: AddressLine
    line2: AddressLine | None = None
    city: Annotated[str, Text(1, 100)]
    region: Annotated[
        Annotated[str, Text(1, 100)] | None,
        Field(description="State or province: required, as its ISO 3166-2 code (CA or US-CA), where the tax "
                          "differs by region (US); free text elsewhere."),
    ] = None
    postal_code: Annotated[str, Text(2, 16), Field(description="Checked against the country's format.")]
    country: CountryCode
    phone: Phone | None = None
    default: Annotated[bool, Field(description="Make it the default address (the first address always is).")] = False


class AddressChange(RequestModel):
    """PATCH /me/addresses/{addressId}: the fields sent replace the stored ones (null clears an optional one);
    the whole address is checked again (a new country checks the postcode again)."""

    model_config = ConfigDict(json_schema_extra=_nullable_only("line2", "region", "phone", "default"))

    name: Annotated[str, Text(1, 200)] | None = None
    line1: AddressLine | None = None
    line2: AddressLine | None = None
    city: Annotated[str, Text(1, 100)] | None = None
    region: Annotated[str, Text(1, 100)] | None = None
    postal_code: Annotated[str, Text(2, 16)] | None = None
    country: CountryCode | None = None
    phone: Phone | None = None
    default: Annotated[bool | None, Field(description="true makes it the default; false is refused for the "
                                                      "default address (make another one the default)")] = None


class AddressView(ViewModel):
    address_id: str
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None
    default: bool
    tax_region: str | None = Field(
        description="The tax region (TaxRatesBps) this address ships at; null when the shop does not ship there."
    )
    created_at: str
    updated_at: str


class AddressBook(ViewModel):
    addresses: list[AddressView] = Field(description="Oldest first; exactly one is the default when any exist.")
    default_address_id: str | None
    max_addresses: int


class ProfileView(Profile):
    """GET and PATCH /me: the account (user pool) and the profile (Profiles table)."""

    phone: str | None
    default_address_id: str | None
