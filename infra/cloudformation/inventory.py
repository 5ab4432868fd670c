"""What the local cloud emulates, by resource type, and the start-up list of what a stack uses that it does not.

RESOURCE_TYPES is the one table: each CloudFormation type (as SAM translates to them) with how far the local
cloud goes, a line on how, and the properties it honours only partly or not at all. `inventory(stack)`
compares a provisioned stack against it and answers the entries to print at start (one block) and that
`python -m infra run --strict` refuses; `markdown_table()` is the table of docs/local-cloud.md
(`python scripts/build_inventory_doc.py` writes it; a unit test keeps the two equal). Making a type served
is changing its one entry here.
"""

from __future__ import annotations

import platform
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.cloudformation.provision import LocalStack

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"
WORKER_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"  # the workers run sys.executable


class NotEmulatedError(Exception):
    """`--strict`: the template uses what the local cloud does not emulate (the message lists it)."""


class Support(StrEnum):
    EMULATED = "emulated"  # created in (or played by) the local services and behaves as on AWS, as noted
    PASSIVE = "recorded, no local effect"  # nothing to run locally (it authorizes or stores what is not kept)
    PARTIAL = "partly emulated"
    NONE = "not emulated"  # recorded only: its name and ARN resolve, nothing exists or runs


LISTED = (Support.PARTIAL, Support.NONE)  # what start-up lists and --strict refuses


@dataclass(frozen=True)
class Property:
    """A property honoured only partly or not at all; `applies` says which values are (default: any)."""

    note: str
    applies: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class TypeSupport:
    support: Support
    how: str
    properties: Mapping[str, Property] = field(default_factory=dict)


def _not_this_machine(architectures: Any) -> bool:
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    return list(architectures or ["x86_64"]) != [machine]


def _other_event_source(arn: Any) -> bool:
    return not str(arn).startswith(("arn:aws:sqs:", "arn:aws:dynamodb:"))


def _not_jwt_authorizers(body: Any) -> bool:
    schemes = (body or {}).get("components", {}).get("securitySchemes", {}) if isinstance(body, dict) else {}
    return any(
        scheme.get("x-amazon-apigateway-authorizer", {}).get("type", "jwt") != "jwt" for scheme in schemes.values()
    )


def _not_cloudfront(scope: Any) -> bool:
    return bool(scope != "CLOUDFRONT")


def _rest_body_not_served(body: Any) -> bool:
    from infra.apigateway.rest_spec import RestApiError, rest_api_spec

    try:
        return bool(rest_api_spec("inventory", "inventory", {"Body": body}).not_served)
    except (RestApiError, AttributeError, TypeError):
        return True


_REST_API = TypeSupport(
    Support.EMULATED,
    "a REST API (API Gateway v1) is served from its OpenAPI Body on its own port, the stage in the path: "
    "payload format 1.0, Lambda proxy and mock integrations, Cognito and Lambda authorizers, CORS preflight; what "
    "it does not serve (infra.apigateway.models.REST_API_NOT_SERVED) is logged at start for each API using it",
    {
        "Body": Property(
            "uses what the gateway does not serve (usage plans and API keys, request validators, non-proxy "
            "integrations, IAM authorization, gateway responses: each logged at start)",
            _rest_body_not_served,
        ),
        "BodyS3Location": Property("not read: the start stops (inline the Body)"),
    },
)
_CLOUDFRONT = "no CDN: clients call the gateway (the API) and the local S3 (media) directly"

RESOURCE_TYPES: dict[str, TypeSupport] = {
    "AWS::ApiGateway::Deployment": _REST_API,
    "AWS::ApiGateway::RestApi": _REST_API,
    "AWS::ApiGateway::Stage": _REST_API,
    "AWS::ApiGatewayV2::Api": TypeSupport(
        Support.EMULATED,
        "the gateway serves an HTTP API from its inline OpenAPI Body: routes, payload format 2.0, JWT authorizers, "
        "CORS; one HTTP API per template",
        {
            "Body": Property(
                "only JWT authorizers run: routes under another authorizer are open", _not_jwt_authorizers
            ),
            "ProtocolType": Property("WebSocket APIs are not served", lambda kind: kind != "HTTP"),
        },
    ),
    "AWS::ApiGatewayV2::Stage": TypeSupport(
        Support.EMULATED,
        "its default route throttling, per caller address",
        {"AccessLogSettings": Property("no access logs")},
    ),
    "AWS::CloudFront::Distribution": TypeSupport(Support.NONE, _CLOUDFRONT),
    "AWS::CloudFront::Function": TypeSupport(
        Support.NONE, "not run: the gateway maps the storefront's page paths itself (infra/apigateway/static.py)"
    ),
    "AWS::CloudFront::OriginAccessControl": TypeSupport(Support.NONE, _CLOUDFRONT),
    "AWS::CloudFront::ResponseHeadersPolicy": TypeSupport(
        Support.EMULATED, "played by the gateway: its headers on every response"
    ),
    "AWS::CloudWatch::Alarm": TypeSupport(Support.NONE, "never evaluated: no metrics are collected"),
    "AWS::CodeDeploy::Application": TypeSupport(
        Support.NONE, "DeploymentPreference is not simulated: an alias moves to its new version at once"
    ),
    "AWS::CodeDeploy::DeploymentGroup": TypeSupport(
        Support.NONE, "DeploymentPreference is not simulated: an alias moves to its new version at once"
    ),
    "AWS::CloudWatch::Dashboard": TypeSupport(Support.NONE, "no metrics are collected"),
    "AWS::Cognito::UserPool": TypeSupport(
        Support.EMULATED,
        "moto's Cognito, with the email verification flow and ID token claims Cognito has",
        {"LambdaConfig": Property("triggers are not invoked")},
    ),
    "AWS::Cognito::UserPoolClient": TypeSupport(Support.EMULATED, "moto's Cognito"),
    "AWS::Cognito::UserPoolGroup": TypeSupport(Support.EMULATED, "moto's Cognito"),
    "AWS::DynamoDB::Table": TypeSupport(
        Support.EMULATED,
        "DynamoDB Local (moto's without Java): keys, indexes, streams to functions; TTL deletions by a sweeper",
        {
            "KinesisStreamSpecification": Property("changes are not sent to Kinesis"),
            "PointInTimeRecoverySpecification": Property("no backups to restore from"),
            "ProvisionedThroughput": Property("capacity is not enforced (the dynamodb.partition-* faults play it)"),
        },
    ),
    "AWS::EMRServerless::Application": TypeSupport(Support.NONE, "not run: `make recs` runs its job in local Spark"),
    "AWS::Events::EventBus": TypeSupport(Support.EMULATED, "moto's EventBridge; the cloud routes its events"),
    "AWS::Events::Rule": TypeSupport(
        Support.EMULATED,
        "AWS's pattern language, schedules, Input/InputPath/InputTransformer, RetryPolicy and DeadLetterConfig; "
        "targets Lambda, SQS, Step Functions, event buses, SNS (CloudWatch Logs and API destinations are not "
        "delivered)",
    ),
    "AWS::IAM::ManagedPolicy": TypeSupport(Support.PASSIVE, "not enforced (the template's tests check policies)"),
    "AWS::IAM::Policy": TypeSupport(Support.PASSIVE, "not enforced (the template's tests check policies)"),
    "AWS::IAM::Role": TypeSupport(Support.PASSIVE, "not enforced (the template's tests check policies)"),
    "AWS::Lambda::EventSourceMapping": TypeSupport(
        Support.EMULATED,
        "DynamoDB streams and SQS queues: batching, filters, partial batch responses, retries, destinations",
        {
            "EventSourceArn": Property("only DynamoDB streams and SQS queues are polled", _other_event_source),
            "ParallelizationFactor": Property("one batch per shard at a time"),
            "TumblingWindowInSeconds": Property("no tumbling windows"),
        },
    ),
    "AWS::Lambda::Function": TypeSupport(
        Support.EMULATED,
        "warm worker processes on the cloud's Python: handler, environment, layers, timeout, reserved "
        "concurrency as a cap on workers (memory is not limited)",
        {
            "Architectures": Property("runs on this machine's architecture", _not_this_machine),
            "DeadLetterConfig": Property("failed asynchronous invocations are not sent to it"),
            "FileSystemConfigs": Property("no file system is mounted"),
            "SnapStart": Property("no snapshots"),
            "TracingConfig": Property("no X-Ray traces", lambda config: (config or {}).get("Mode") == "Active"),
            "VpcConfig": Property("no network isolation"),
        },
    ),
    "AWS::Lambda::Alias": TypeSupport(
        Support.EMULATED,
        "points at a version; invoked by its ARN or name:alias everywhere a function is (docs: Versions and aliases)",
        {"RoutingConfig": Property("weighted aliases run only their main version")},
    ),
    "AWS::Lambda::LayerVersion": TypeSupport(Support.EMULATED, "its folder (python/) on the workers' path"),
    "AWS::Lambda::Permission": TypeSupport(Support.PASSIVE, "not enforced"),
    "AWS::Lambda::Version": TypeSupport(
        Support.EMULATED, "a snapshot of the function's configuration at start, with its own workers; numbered from 1"
    ),
    "AWS::Logs::LogGroup": TypeSupport(Support.PASSIVE, "functions log to .local/logs/<function>.log"),
    "AWS::OpenSearchServerless::AccessPolicy": TypeSupport(Support.NONE, "search runs on the local index"),
    "AWS::OpenSearchServerless::Collection": TypeSupport(Support.NONE, "search runs on the local index"),
    "AWS::OpenSearchServerless::SecurityPolicy": TypeSupport(Support.NONE, "search runs on the local index"),
    "AWS::S3::Bucket": TypeSupport(
        Support.EMULATED,
        "moto's S3: objects, versioning, CORS; notifications invoke functions",
        {
            "LifecycleConfiguration": Property("objects never expire or change storage class"),
            "ReplicationConfiguration": Property("objects are not replicated"),
            "WebsiteConfiguration": Property("not served as a website"),
        },
    ),
    "AWS::S3::BucketPolicy": TypeSupport(Support.EMULATED, "moto enforces it for unsigned requests"),
    "AWS::SES::EmailIdentity": TypeSupport(
        Support.EMULATED, "verified in moto's SES; sent mail is read at /_local/mail"
    ),
    "AWS::SNS::Subscription": TypeSupport(Support.NONE, "nothing is delivered to subscribers"),
    "AWS::SNS::Topic": TypeSupport(
        Support.EMULATED,
        "moto's SNS: publish works, nothing is delivered to subscribers",
        {"Subscription": Property("subscriptions are not created")},
    ),
    "AWS::SQS::Queue": TypeSupport(Support.EMULATED, "moto's SQS: attributes, redrive to dead-letter queues, FIFO"),
    "AWS::SQS::QueuePolicy": TypeSupport(Support.PASSIVE, "not enforced"),
    "AWS::SSM::Parameter": TypeSupport(
        Support.EMULATED, "moto's Parameter Store (String, StringList); `{{resolve:ssm:...}}` reads it"
    ),
    "AWS::Scheduler::Schedule": TypeSupport(Support.NONE, "never fires"),
    "AWS::SecretsManager::Secret": TypeSupport(
        Support.EMULATED,
        "moto's Secrets Manager: SecretString or GenerateSecretString; `{{resolve:secretsmanager:...}}` reads it",
        {"ReplicaRegions": Property("not replicated")},
    ),
    "AWS::StepFunctions::StateMachine": TypeSupport(
        Support.EMULATED,
        "moto's ASL interpreter; Lambda tasks call the local functions, DynamoDB tasks DynamoDB Local",
        {
            "LoggingConfiguration": Property("no CloudWatch Logs: `python -m infra executions` shows the history"),
            "TracingConfiguration": Property("no X-Ray traces", lambda config: bool((config or {}).get("Enabled"))),
        },
    ),
    "AWS::WAFv2::WebACL": TypeSupport(
        Support.EMULATED,
        "played by the gateway (scope CLOUDFRONT): body size constraints, rate rules as token buckets; a statement "
        "it cannot evaluate stops the start",
        {"Scope": Property("only CLOUDFRONT web ACLs are played: this one is not applied", _not_cloudfront)},
    ),
}

UNKNOWN = TypeSupport(Support.NONE, "recorded only: nothing local creates or runs it")


def support_of(resource_type: str) -> TypeSupport:
    return RESOURCE_TYPES.get(resource_type, UNKNOWN)


@dataclass(frozen=True)
class Gap:
    """One line of the start-up list: a type, a type's property, a transform or a function's runtime."""

    subject: str  # e.g. "AWS::CloudWatch::Alarm", "AWS::Lambda::Function.TracingConfig", "function Legacy"
    support: Support
    how: str
    count: int = 1

    def line(self) -> str:
        is_type = "::" in self.subject and " " not in self.subject  # a type or a type's property: counted
        times = f" x{self.count}" if self.count > 1 or is_type else ""
        return f"{self.subject}{times}: {self.support}: {self.how}"


def inventory(stack: LocalStack, template: Mapping[str, Any]) -> list[Gap]:
    """What of this provisioned stack the local cloud emulates only partly or not at all."""
    types: Counter[str] = Counter()
    properties: Counter[tuple[str, str]] = Counter()
    for resource in dict(stack.resources).values():
        support = support_of(resource.type)
        if support.support in LISTED:
            types[resource.type] += 1
        for name, rule in support.properties.items():
            if name in resource.properties and (rule.applies is None or rule.applies(resource.properties[name])):
                properties[resource.type, name] += 1
    gaps = [Gap(kind, support_of(kind).support, support_of(kind).how, count) for kind, count in sorted(types.items())]
    gaps += [
        Gap(f"{kind}.{name}", Support.PARTIAL, RESOURCE_TYPES[kind].properties[name].note, count)
        for (kind, name), count in sorted(properties.items())
    ]
    from infra.cloudformation.template import transforms

    gaps += [
        Gap(f"Transform {name}", Support.NONE, "not applied: only SAM's transform is")
        for name in transforms(template)
        if name != SERVERLESS_TRANSFORM
    ]
    gaps += [
        Gap(f"function {name}", Support.PARTIAL, f"runtime {spec.runtime} runs on {WORKER_RUNTIME} here")
        for name, spec in sorted(stack.functions.items())
        if spec.runtime != WORKER_RUNTIME
    ]
    return gaps


def report(gaps: list[Gap]) -> str:
    """The one block start-up prints (and --strict refuses with)."""
    lines = "\n".join(f"  {gap.line()}" for gap in gaps)
    return f"not emulated, or only partly, here ({len(gaps)}; `run --strict` refuses to start on any):\n{lines}"


def markdown_table() -> str:
    """docs/local-cloud.md's table of RESOURCE_TYPES (scripts/build_inventory_doc.py writes it there)."""
    rows = ["| resource type | here | how | properties honoured partly or not |", "|---|---|---|---|"]
    for kind, support in sorted(RESOURCE_TYPES.items()):
        notes = "; ".join(f"`{name}`: {rule.note}" for name, rule in sorted(support.properties.items()))
        rows.append(f"| `{kind}` | {support.support} | {support.how} | {notes} |")
    rows.append(f"| any other type | {UNKNOWN.support} | {UNKNOWN.how} | |")
    return "\n".join(rows)
