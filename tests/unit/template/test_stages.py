"""Diagnostics routes and payment test hooks exist only outside prod, whatever EnableDiagnostics says.

Rendered as a stack with those parameters would be: SAM's translation, then the template's conditions.
"""

from __future__ import annotations

import pytest

from tests.support.stack import Stack, render

DIAGNOSTICS_ROUTE = "/_diagnostics/{action}"
# The functions that build the local payment provider, and so would honour its test hooks.
PAYMENT_FUNCTIONS = ("CheckoutFunction", "OrdersFunction", "PaymentsFunction", "SagaFunction", "OrderUnwindFunction")


def routes(stack: Stack) -> set[str]:
    return set(stack.resources["HttpApi"]["Properties"]["Body"]["paths"])


def diagnostics_resources(stack: Stack) -> set[str]:
    found = {name for name in stack.resources if name.startswith("Diagnostics")}
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        if function["Properties"]["Code"]["S3Key"] == "functions/diagnostics":
            found.add(name)
    return found


def payment_test_hooks(stack: Stack) -> dict[str, str | None]:
    return {
        name: function["Properties"]["Environment"]["Variables"].get("PAYMENT_TEST_HOOKS")
        for name, function in stack.of_type("AWS::Lambda::Function").items()
    }


def test_prod_deploys_no_diagnostics_and_no_test_hooks_even_when_asked() -> None:
    prod = render({"Stage": "prod", "EnableDiagnostics": "true"})
    assert diagnostics_resources(prod) == set()
    assert DIAGNOSTICS_ROUTE not in routes(prod)
    assert {name: hooks for name, hooks in payment_test_hooks(prod).items() if hooks not in (None, "false")} == {}


def test_dev_with_diagnostics_has_the_routes_and_the_hooks() -> None:
    """What the local cloud and the tests run; also proves the prod test above looks in the right places."""
    dev = render({"Stage": "dev", "EnableDiagnostics": "true"})
    assert {"DiagnosticsFunction", "DiagnosticsLogGroup", "DiagnosticsFunctionRole"} <= diagnostics_resources(dev)
    assert DIAGNOSTICS_ROUTE in routes(dev)
    assert {name for name, hooks in payment_test_hooks(dev).items() if hooks == "true"} == set(PAYMENT_FUNCTIONS)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_without_the_flag_no_stage_has_them(stage: str) -> None:
    stack = render({"Stage": stage, "EnableDiagnostics": "false"})
    assert diagnostics_resources(stack) == set()
    assert DIAGNOSTICS_ROUTE not in routes(stack)
    assert set(payment_test_hooks(stack).values()) <= {None, "false"}
