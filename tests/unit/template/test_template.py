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
    assert schedule["Type"] == "Schedule" and schedule["Properties"]["Schedule"] == "rate(5 minutes)"
    translated = translate(template, ROOT, resolve_parameters(template, {}))
    rules = [r for r in translated["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    (rule,) = [r for r in rules if r["Properties"].get("ScheduleExpression") == "rate(5 minutes)"]
    # EventDeliveryDeadLetterQueuePolicy lets the rule of this name send to the queue its target names
    assert rule["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-payments-reconciler"}
    assert rule["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": ["EventDeliveryDeadLetterQueue", "Arn"]}


def test_no_secret_has_a_default_value():
    # A default secret is a secret everyone who reads the template knows; keys are generated per stack.
    template = load_template(ROOT / "template.yaml")
    for name, parameter in template["Parameters"].items():
        assert not (parameter.get("NoEcho") and "Default" in parameter), name
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            assert "GenerateSecretString" in resource["Properties"], name


def test_the_api_edge_holds_the_per_client_limits_and_the_headers():
    """The web ACL's rules take their limits from the parameters the local gateway also enforces, its body
    limit is the functions' limit, and the distribution in front of the API uses both the ACL and the
    headers policy, which adds the headers the functions add."""
    from shop.http import MAX_BODY_BYTES, SECURITY_HEADERS

    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"]
    acl = resources["ApiWebAcl"]
    assert acl["Condition"] == "EdgeProtected" and acl["Properties"]["Scope"] == "CLOUDFRONT"
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    rate_limits = {
        name: (statement["Limit"], statement["EvaluationWindowSec"], statement["AggregateKeyType"])
        for name, rule in rules.items()
        if (statement := rule["Statement"].get("RateBasedStatement"))
    }
    window = {"Ref": "RateLimitWindowSeconds"}
    assert rate_limits == {
        "SensitiveRoutesPerAddress": ({"Ref": "SensitiveRateLimit"}, window, "IP"),
        "PerAddress": ({"Ref": "AddressRateLimit"}, window, "IP"),
        "PerCaller": ({"Ref": "ClientRateLimit"}, window, "CUSTOM_KEYS"),
    }
    sensitive = rules["SensitiveRoutesPerAddress"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    routes = sensitive["AndStatement"]["Statements"][1]["OrStatement"]["Statements"]
    paths = {match["ByteMatchStatement"]["SearchString"] for match in routes}
    assert paths == {"/auth/login", "/auth/register", "/checkout"}
    for name in rate_limits:
        assert rules[name]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    body = rules["BodyOverLimit"]
    assert body["Statement"]["SizeConstraintStatement"]["Size"] == MAX_BODY_BYTES
    assert body["Statement"]["SizeConstraintStatement"]["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
    assert acl["Properties"]["AssociationConfig"]["RequestBody"]["CLOUDFRONT"]["DefaultSizeInspectionLimit"] == "KB_64"
    assert body["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 413

    parameters = template["Parameters"]
    assert int(parameters["AddressRateLimit"]["Default"]) > int(parameters["ClientRateLimit"]["Default"])
    stage = resources["HttpApi"]["Properties"]["DefaultRouteSettings"]  # the shared stage limit stays
    assert stage == {
        "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
    }

    distribution = resources["ApiDistribution"]
    assert distribution["Condition"] == "EdgeProtectedOnAws"
    config = distribution["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "ApiResponseHeadersPolicy"}
    assert config["Origins"][0]["DomainName"] == {"Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"}

    from infra.apigateway.edge import policy_headers

    policy = resources["ApiResponseHeadersPolicy"]["Properties"]
    headers = {name.decode(): value.decode() for name, value, _override in policy_headers(policy)}
    assert headers == {name.lower(): value for name, value in SECURITY_HEADERS.items()}
