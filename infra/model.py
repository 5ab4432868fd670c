"""What the local cloud knows about the stack it runs: the plain records every infra module shares.

The provisioner (infra.provision) builds these from template.yaml after SAM's own translation; the
gateway, the workers and the Lambda API only ever read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account: ARNs it issues use it too


@dataclass(frozen=True)
class Endpoints:
    """Where each local service listens (all on loopback)."""

    dynamodb: str  # e.g. http://127.0.0.1:8000 (DynamoDB Local, or moto when Java is missing)
    moto: str  # moto server: S3, SQS, EventBridge, SNS, Cognito, STS, ...
    lambda_api: str  # our Lambda Invoke API
    api: str  # the HTTP API gateway
    region: str = REGION

    def aws_environment(self) -> dict[str, str]:
        """The AWS_* variables that point any AWS SDK or the AWS CLI at the local services.

        botocore reads AWS_ENDPOINT_URL_<SERVICE> (service id upper-cased, spaces to underscores) before
        AWS_ENDPOINT_URL, so DynamoDB and Lambda go to their own servers and everything else to moto.
        """
        return {
            "AWS_ENDPOINT_URL": self.moto,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.dynamodb,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_api,
            "AWS_ENDPOINT_URL_S3": self.moto,
            "AWS_ENDPOINT_URL_SQS": self.moto,
            "AWS_ENDPOINT_URL_SNS": self.moto,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": self.moto,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": self.moto,
            "AWS_ENDPOINT_URL_SFN": self.moto,
            "AWS_ENDPOINT_URL_STS": self.moto,
            "AWS_ENDPOINT_URL_SES": self.moto,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Lambda::Function, resolved to local values."""

    name: str  # local function name: the template's logical id (e.g. "CatalogFunction")
    arn: str
    handler: str  # "module.attribute", e.g. "app.lambda_handler"
    code_dir: Path  # absolute path of the CodeUri folder
    layer_dirs: tuple[Path, ...]  # absolute paths put on sys.path after code_dir (a layer's python/ dir)
    runtime: str
    environment: dict[str, str]  # the template's Environment.Variables only, intrinsics resolved
    timeout_seconds: int
    memory_mb: int
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class JwtAuthorizer:
    """An HTTP API JWT authorizer (x-amazon-apigateway-authorizer of type jwt)."""

    name: str
    issuer: str  # e.g. https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc
    audiences: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class Route:
    """One route of an HTTP API, as API Gateway matches it."""

    method: str  # upper case, or "ANY"
    path: str  # OpenAPI path: "/items/{itemId}", "/{proxy+}"
    function_name: str
    authorizer: JwtAuthorizer | None = None
    authorization_scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Throttle:
    rate_per_second: float
    burst: int


@dataclass
class HttpApiSpec:
    logical_id: str
    api_id: str
    stage: str
    routes: list[Route] = field(default_factory=list)
    throttle: Throttle | None = None
    cors_allow_origins: tuple[str, ...] = ()


# -- event sources (recorded by the provisioner, delivered by infra/components.py) ----------------------


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """An AWS::Lambda::EventSourceMapping (SAM DynamoDB / SQS / Kinesis events)."""

    logical_id: str
    uuid: str
    function_name: str
    event_source_arn: str  # a DynamoDB stream ARN or an SQS queue ARN
    properties: dict[str, Any]  # resolved CloudFormation properties (BatchSize, FilterCriteria, ...)


@dataclass(frozen=True)
class BucketNotificationSpec:
    """An S3 bucket's NotificationConfiguration (SAM S3 events become LambdaConfigurations)."""

    logical_id: str
    bucket: str
    configuration: dict[str, Any]  # resolved: {"LambdaConfigurations": [{"Event", "Function", "Filter"}], ...}


@dataclass(frozen=True)
class EventRuleSpec:
    """An AWS::Events::Rule: an event pattern on a bus, or a schedule, with its targets."""

    logical_id: str
    name: str
    arn: str
    bus_name: str  # "default" for schedules and rules without EventBusName
    properties: dict[str, Any]  # resolved: EventPattern, ScheduleExpression, State, Targets[...]


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str  # created in moto's Step Functions
    definition: str  # ASL JSON with DefinitionSubstitutions applied
    type: str  # STANDARD or EXPRESS


@dataclass(frozen=True)
class TtlTableSpec:
    table_name: str
    attribute: str
