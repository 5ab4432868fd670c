"""Accounts: buyers and sellers register, sign in and refresh their tokens (the Cognito user pool).

The role is the Cognito group a user is put in (sellers or buyers); it reaches every other function
through the `cognito:groups` claim of the user's tokens (shop.identity reads it).
"""

from shop.accounts.user_pool import PASSWORD_POLICY, POLICY_IN_WORDS, login, refresh, register

__all__ = ["PASSWORD_POLICY", "POLICY_IN_WORDS", "login", "refresh", "register"]
