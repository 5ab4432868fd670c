"""The checkout stack's environment and tables (tests/unit/checkout_stack.py)."""

from tests.unit.checkout_stack import environment, tables

__all__ = ["environment", "tables"]
