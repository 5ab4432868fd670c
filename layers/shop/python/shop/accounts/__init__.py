"""Accounts: buyers and sellers register, sign in, refresh their tokens and verify their email address (the
Cognito user pool); their profile and address book (the Profiles table), whose default address decides the
tax and shipping of their cart and orders; and deleting an account with its personal data (DELETE /me).

The role is the Cognito group a user is put in (sellers or buyers); it reaches every other function
through the `cognito:groups` claim of the user's tokens (shop.identity reads it).
"""

from shop.accounts.addresses import check_address, tax_region_of
from shop.accounts.email_ownership import bearer_token, email_verified, require_verified_seller_email
from shop.accounts.me import change_me, delete_me, me
from shop.accounts.profiles import (
    MAX_ADDRESSES,
    Shipping,
    add_address,
    address_book,
    change_address,
    delete_address,
    get_address,
    shipping_for,
)
from shop.accounts.user_pool import (
    PASSWORD_POLICY,
    POLICY_IN_WORDS,
    login,
    profile,
    refresh,
    register,
    resend_email_code,
    subject_of,
    verify_email,
)

__all__ = [
    "MAX_ADDRESSES",
    "PASSWORD_POLICY",
    "POLICY_IN_WORDS",
    "Shipping",
    "add_address",
    "address_book",
    "bearer_token",
    "change_address",
    "change_me",
    "check_address",
    "delete_address",
    "delete_me",
    "email_verified",
    "get_address",
    "login",
    "me",
    "profile",
    "refresh",
    "register",
    "require_verified_seller_email",
    "resend_email_code",
    "shipping_for",
    "subject_of",
    "tax_region_of",
    "verify_email",
]
