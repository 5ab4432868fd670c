"""Accounts: buyers and sellers register, sign in, refresh their tokens and verify their email address (the
Cognito user pool).

The role is the Cognito group a user is put in (sellers or buyers); it reaches every other function
through the `cognito:groups` claim of the user's tokens (shop.identity reads it).
"""

from shop.accounts.email_ownership import bearer_token, email_verified, require_verified_seller_email
from shop.accounts.user_pool import (
    PASSWORD_POLICY,
    POLICY_IN_WORDS,
    login,
    profile,
    refresh,
    register,
    resend_email_code,
    verify_email,
)

__all__ = [
    "PASSWORD_POLICY",
    "POLICY_IN_WORDS",
    "bearer_token",
    "email_verified",
    "login",
    "profile",
    "refresh",
    "register",
    "require_verified_seller_email",
    "resend_email_code",
    "verify_email",
]
