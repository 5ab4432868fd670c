"""template.yaml is valid for AWS and readable by the local cloud."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra.cloudformation.provision import resolve_parameters
from infra.cloudformation.template import load_template, translate

ROOT = Path(__file__).resolve().parents[3]


def test_cfn_lint_passes_on_the_template():
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    result = subprocess.run([cfn_lint, "template.yaml"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_translation_gives_functions_routes_and_authorizer():
    template = load_template(ROOT / "template.yaml")
    translated = translate(template, ROOT, resolve_parameters(template, {}))
    types = {resource["Type"] for resource in translated["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::ApiGatewayV2::Api", "AWS::DynamoDB::Table"} <= types
    body = translated["Resources"]["HttpApi"]["Properties"]["Body"]
    assert body["paths"]["/items"]["post"]["security"] == [{"CognitoAuthorizer": []}]
    assert body["paths"]["/items/{itemId}"]["get"]["security"] == [{"NONE": []}]


def test_every_function_has_a_log_group_with_retention():
    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"]
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            group = resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
            assert "RetentionInDays" in resources[group]["Properties"], name


def test_every_function_that_calls_the_payment_provider_reaches_its_ledger():
    """A function that voids, refunds, confirms or reconciles payments needs the provider's ledger table (env
    and policy); the reconciler runs on a schedule and becomes an EventBridge rule."""
    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"]
    for name in ("OrdersFunction", "PaymentsFunction", "SagaFunction", "OrderUnwindFunction",
                 "PaymentsReconcilerFunction"):  # fmt: skip
        properties = resources[name]["Properties"]
        assert properties["Environment"]["Variables"]["PROVIDER_LEDGER_TABLE"] == {"Ref": "PaymentProviderLedgerTable"}
        assert {"DynamoDBCrudPolicy": {"TableName": {"Ref": "PaymentProviderLedgerTable"}}} in properties["Policies"]
    schedule = resources["PaymentsReconcilerFunction"]["Properties"]["Events"]["EveryFiveMinutes"]
    assert schedule == {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}}
    translated = translate(template, ROOT, resolve_parameters(template, {}))
    rules = [r for r in translated["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert any(r["Properties"].get("ScheduleExpression") == "rate(5 minutes)" for r in rules)


def test_no_secret_has_a_default_value():
    # A default secret is a secret everyone who reads the template knows; keys are generated per stack.
    template = load_template(ROOT / "template.yaml")
    for name, parameter in template["Parameters"].items():
        assert not (parameter.get("NoEcho") and "Default" in parameter), name
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            assert "GenerateSecretString" in resource["Properties"], name
