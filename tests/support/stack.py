"""template.yaml as a stack with given parameters would have it, without deploying anything.

SAM's own translator expands the template (policy templates become IAM statements, events become routes and
permissions); the local cloud's Resolver then evaluates the Conditions and intrinsics, so what a false condition
removes is gone and an `Fn::If` reads as the branch taken. Resources are named by their logical ids, and ARNs are
shortened to `service:resource` ("dynamodb:table/OrdersTable", "s3:MediaBucket/uploads/*"), so expectations
read like the template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.cloudformation.intrinsics import NO_VALUE, Resolver
from infra.cloudformation.provision import resolve_parameters
from infra.cloudformation.template import load_template, translate
from infra.core.aws import ACCOUNT_ID, REGION

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "shop"
_PSEUDO = {
    "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": STACK_NAME, "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com", "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/shop/x",
}  # fmt: skip
# What Fn::GetAtt X.Arn (and Ref, for the types whose Ref is an ARN) stands for, per resource type.
_ARNS = {
    "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{{}}",
    "AWS::S3::Bucket": "arn:aws:s3:::{}",
    "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{{}}",
    "AWS::Cognito::UserPool": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{{}}",
    "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{{}}",
    "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{{}}",
    "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{{}}",
    "AWS::OpenSearchServerless::Collection": f"arn:aws:aoss:{REGION}:{ACCOUNT_ID}:collection/{{}}",
    "AWS::Events::EventBus": f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{{}}",
    "AWS::EMRServerless::Application": f"arn:aws:emr-serverless:{REGION}:{ACCOUNT_ID}:/applications/{{}}",
}
_REF_IS_ARN = {"AWS::SecretsManager::Secret", "AWS::StepFunctions::StateMachine"}
_ARN_PREFIX = re.compile(rf"^arn:aws:([a-z0-9-]+):(?:{REGION})?:(?:{ACCOUNT_ID})?:")


@dataclass(frozen=True)
class Stack:
    """The resources a stack with these parameters would have, intrinsics resolved."""

    resources: dict[str, dict[str, Any]]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def grants(self, role: str) -> dict[str, set[str]]:
        """The role's inline policies as resource -> actions allowed on it (every statement must be a plain
        Allow of Action on Resource: a Deny, NotAction or NotResource would need a reading of its own)."""
        found: dict[str, set[str]] = {}
        for policy in self.resources[role]["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                assert set(statement) <= {"Effect", "Action", "Resource", "Sid"}, (role, statement)
                assert statement["Effect"] == "Allow", (role, statement)
                for resource in _as_list(statement["Resource"]):
                    found.setdefault(self.short(resource), set()).update(_as_list(statement["Action"]))
        return found

    def managed_policies(self, role: str) -> set[str]:
        return {arn.rsplit("/", 1)[-1] for arn in self.resources[role]["Properties"].get("ManagedPolicyArns", [])}

    def short(self, arn: str) -> str:
        """ "arn:aws:dynamodb:<region>:<account>:table/OrdersTable" -> "dynamodb:table/OrdersTable"; a bucket
        spelled out by name (to avoid a cycle) reads as its logical id too."""
        text = _ARN_PREFIX.sub(r"\1:", str(arn))
        for name, bucket in self.of_type("AWS::S3::Bucket").items():
            physical = bucket["Properties"].get("BucketName")
            if physical:
                text = text.replace(f"s3:{physical}", f"s3:{name}")
        return text


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def render(overrides: Mapping[str, str] | None = None) -> Stack:
    """The stack template.yaml makes with these parameter overrides (the rest take their defaults)."""
    template = load_template(ROOT / "template.yaml")
    parameters = resolve_parameters(template, overrides or {})
    translated = translate(template, ROOT, parameters)
    resources: dict[str, dict[str, Any]] = translated["Resources"]
    types = {name: resource["Type"] for name, resource in resources.items()}
    skipped: set[str] = set()

    def ref(name: str) -> Any:
        if name in skipped:
            return NO_VALUE
        if types.get(name) == "AWS::Lambda::Alias":  # the alias's ARN: its function's, qualified by its name
            alias = resources[name]["Properties"]
            return f"{_ARNS['AWS::Lambda::Function'].format(alias['FunctionName']['Ref'])}:{alias['Name']}"
        return _ARNS[types[name]].format(name) if types.get(name) in _REF_IS_ARN else name

    def get_att(name: str, attribute: str) -> Any:
        if attribute == "Arn" and types.get(name) in _ARNS:
            return _ARNS[types[name]].format(name)
        if attribute == "StreamArn":  # a table's stream: its label is the time the stream was enabled
            return _ARNS[types[name]].format(name) + "/stream/2026-01-01T00:00:00.000"
        return name if attribute in {"Name", "QueueName"} else f"{name}.{attribute}"

    resolver = Resolver(
        parameters={**_PSEUDO, **parameters}, conditions=translated.get("Conditions", {}),
        mappings=translated.get("Mappings", {}), ref=ref, get_att=get_att, region=REGION,
    )  # fmt: skip
    skipped.update(name for name, r in resources.items() if "Condition" in r and not resolver.condition(r["Condition"]))
    kept = {name: r for name, r in resources.items() if name not in skipped}
    return Stack({name: resolver.resolve({k: v for k, v in r.items() if k != "Condition"}) for name, r in kept.items()})
