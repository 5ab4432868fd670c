"""Accounts unit tests: the shop layer's plain environment, and moto's Cognito set up per test."""

from tests.unit.shop.conftest import environment, lambda_context

__all__ = ["environment", "lambda_context"]
