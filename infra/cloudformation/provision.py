"""Creating the resources of the translated template in the local services.

Each CloudFormation resource type has one small creator that calls the same API CloudFormation would
(CreateTable, CreateQueue, CreateUserPool, ...) and returns its physical id (what !Ref answers) and
attributes (what !GetAtt answers). Resources are created in dependency order so intrinsics resolve to the
real local names, ARNs and URLs; functions and HTTP APIs are not "created" anywhere but recorded as specs
for the workers and the gateway.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infra.apigateway.models import HttpApiSpec, JwtAuthorizer, RestApiSpec, Route, Throttle
from infra.apigateway.rest_spec import RestApiError, add_stage, rest_api_spec
from infra.awslambda.builds import Build, BuildError, install_requirements, runtime_packages
from infra.awslambda.models import LATEST, AliasSpec, EventSourceMappingSpec, FunctionSpec, function_reference
from infra.cloudformation.intrinsics import NO_VALUE, IntrinsicError, Resolver, references, text
from infra.cloudformation.template import local_code_path
from infra.core.aws import ACCOUNT_ID, REGION, Endpoints
from infra.core.clients import local_client
from infra.dynamodb.models import TtlTableSpec
from infra.events.models import EventRuleSpec
from infra.s3.models import BucketNotificationSpec
from infra.stepfunctions.models import StateMachineSpec

log = logging.getLogger("infra.cloudformation")

PROVISIONING_CONCURRENCY = 16  # API calls in flight; the template has ~20 resources that need no other
PSEUDO_PARAMETERS = ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::Partition", "AWS::URLSuffix")
# {{resolve:ssm:NAME[:VERSION]}}, {{resolve:ssm-secure:NAME[:VERSION]}},
# {{resolve:secretsmanager:ID[:SecretString[:KEY[:STAGE[:VERSION]]]]}}
DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(ssm|ssm-secure|secretsmanager):([^{}]+)\}\}")
# Template parameters whose value is read from Parameter Store at deploy (their value is a parameter's name).
SSM_PARAMETER_TYPE = re.compile(r"AWS::SSM::Parameter::Value<(.+)>")
LIST_PARAMETER_TYPE = re.compile(r"(List<.+>|CommaDelimitedList)")


class ProvisioningError(Exception):
    pass


@dataclass
class PhysicalResource:
    logical_id: str
    type: str
    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)  # resolved


@dataclass
class LocalStack:
    """Everything the local cloud created or recorded for one template."""

    name: str
    parameters: dict[str, str]
    resources: dict[str, PhysicalResource] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by name, each one's $LATEST
    function_versions: list[FunctionSpec] = field(default_factory=list)  # published: AWS::Lambda::Version
    aliases: list[AliasSpec] = field(default_factory=list)
    http_apis: list[HttpApiSpec] = field(default_factory=list)
    rest_apis: list[RestApiSpec] = field(default_factory=list)  # API Gateway v1, each served on its own port
    outputs: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # resources whose Condition is false
    # Event sources, recorded with their resolved CloudFormation properties; the components in
    # service packages deliver them (infra.cloud.build_components).
    event_source_mappings: list[EventSourceMappingSpec] = field(default_factory=list)
    bucket_notifications: list[BucketNotificationSpec] = field(default_factory=list)
    event_rules: list[EventRuleSpec] = field(default_factory=list)
    builds: list[Build] = field(default_factory=list)  # each function's and layer's requirements, as sam build
    state_machines: list[StateMachineSpec] = field(default_factory=list)
    ttl_tables: list[TtlTableSpec] = field(default_factory=list)

    def physical(self, resource_type: str) -> dict[str, PhysicalResource]:
        # A copy first: provisioning threads add resources while others read them (dict() copies in one step
        # under the GIL; iterating the live dict raises "dictionary changed size during iteration").
        return {key: res for key, res in dict(self.resources).items() if res.type == resource_type}


def _raise_unless(error: ClientError, *codes: str) -> None:
    """Re-raise an API error unless it says the resource exists already: a persisted cloud
    (`python -m infra run --persist DIR`) provisions over its own earlier resources, as a stack update
    would, keeping their data."""
    if error.response.get("Error", {}).get("Code") not in codes:
        raise error


def _arn(service: str, resource: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"


def _random_id(length: int = 10) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(length))


def _generated_secret(rules: Mapping[str, Any]) -> str:
    """A value as CloudFormation's GenerateSecretString makes it: PasswordLength characters (32 unless
    given) from the allowed classes, wrapped in SecretStringTemplate under GenerateStringKey if given."""
    alphabet = ""
    if not rules.get("ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not rules.get("ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not rules.get("ExcludeNumbers"):
        alphabet += string.digits
    if not rules.get("ExcludePunctuation"):
        alphabet += string.punctuation
    if rules.get("IncludeSpace"):
        alphabet += " "
    alphabet = "".join(c for c in alphabet if c not in str(rules.get("ExcludeCharacters", "")))
    value = "".join(secrets.choice(alphabet) for _ in range(int(rules.get("PasswordLength", 32))))
    if "SecretStringTemplate" in rules:
        return json.dumps({**json.loads(rules["SecretStringTemplate"]), rules["GenerateStringKey"]: value})
    return value


def resolve_parameters(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise ProvisioningError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = str(overrides[name])
        elif "Default" in spec:
            value = text(spec["Default"])
        else:
            raise ProvisioningError(f"parameter {name} has no Default and was not given")
        allowed = spec.get("AllowedValues")
        if allowed and value not in [str(item) for item in allowed]:
            raise ProvisioningError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


def build_all(translated: Mapping[str, Any], root: Path, build_dir: Path) -> list[Build]:
    """Every build provisioning makes (sam build's step: each function's and python layer's requirements.txt,
    and the runtime's packages), without provisioning anything: `python -m infra build`, `make run`/`make test`
    before their clouds start, so that no cloud's start waits for pip."""
    builds = []
    for logical_id, resource in translated.get("Resources", {}).items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Lambda::Function":
            source = local_code_path(properties.get("Code"), root)
        elif resource.get("Type") == "AWS::Lambda::LayerVersion":
            build_method = str((resource.get("Metadata") or {}).get("BuildMethod", ""))
            source = local_code_path(properties.get("Content"), root) if build_method.startswith("python") else None
        else:
            continue
        if source is not None:
            try:
                builds.append(install_requirements(source, build_dir))
            except BuildError as error:
                raise ProvisioningError(f"{logical_id}: {error}") from error
    runtime_packages(build_dir)
    return builds


class Provisioner:
    def __init__(self, endpoints: Endpoints, root: Path, stack_name: str, build_dir: Path | None = None) -> None:
        """`build_dir`: where functions' and layers' requirements are installed (infra.awslambda.builds);
        None builds nothing and lets workers import the local cloud's own packages."""
        self._endpoints = endpoints
        self._root = root
        self._stack_name = stack_name
        self._build_dir = build_dir
        self._metadata: dict[str, dict[str, Any]] = {}
        self._layer_packages: dict[str, Path] = {}  # a layer's logical id: its built requirements
        self._runtime_dirs: tuple[Path, ...] | None = None

        def client(service: str, url: str) -> Any:
            return local_client(service, url, endpoints.region)

        self._dynamodb = client("dynamodb", endpoints.dynamodb)
        self._s3 = client("s3", endpoints.moto)
        self._sqs = client("sqs", endpoints.moto)
        self._sns = client("sns", endpoints.moto)
        self._events = client("events", endpoints.moto)
        self._cognito = client("cognito-idp", endpoints.moto)
        self._stepfunctions = client("stepfunctions", endpoints.moto)
        self._secrets = client("secretsmanager", endpoints.moto)
        self._ses = client("ses", endpoints.moto)
        self._ssm = client("ssm", endpoints.moto)
        self._creators: dict[str, Callable[[str, dict[str, Any]], PhysicalResource]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::Lambda::LayerVersion": self._layer,
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::Version": self._version,
            "AWS::Lambda::Alias": self._alias,
            "AWS::ApiGatewayV2::Api": self._http_api,
            "AWS::ApiGatewayV2::Stage": self._stage,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGateway::Deployment": self._rest_stage,  # its StageName makes a stage too (SAM's "Stage")
            "AWS::ApiGateway::Stage": self._rest_stage,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::Events::Rule": self._event_rule,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::SES::EmailIdentity": self._email_identity,
        }
        self._stack: LocalStack | None = None
        self._versions_lock = threading.Lock()  # version numbers: a function's versions may publish at once

    # -- driver -----------------------------------------------------------------------------------
    def provision(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> LocalStack:
        stack = LocalStack(name=self._stack_name, parameters=dict(parameters))
        self._stack = stack
        resources: dict[str, Any] = template.get("Resources", {})
        self._metadata = {name: dict(resource.get("Metadata") or {}) for name, resource in resources.items()}
        if self._build_dir is not None:
            self._runtime_dirs = (runtime_packages(self._build_dir),)
        pseudo = {
            "AWS::Region": self._endpoints.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self._stack_name,
            "AWS::StackId": _arn("cloudformation", f"stack/{self._stack_name}/local"),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        resolver = Resolver(
            parameters={**pseudo, **self._parameter_values(template.get("Parameters", {}), parameters)},
            conditions=template.get("Conditions", {}),
            mappings=template.get("Mappings", {}),
            ref=lambda name: self._ref(stack, name),
            get_att=lambda name, attribute: self._get_att(stack, name, attribute),
            region=self._endpoints.region,
        )
        # Each resource is created as soon as the ones it references exist, many at a time: the tables, buckets,
        # queues and the user pool go together, and a slow one (a table with indexes, the pool's keys) holds
        # back only what depends on it, not a whole round.
        order = self._dependency_order(resources)
        with ThreadPoolExecutor(max_workers=PROVISIONING_CONCURRENCY, thread_name_prefix="provision") as pool:
            running: set[Future[str]] = set()
            while order.is_active():
                running |= {pool.submit(self._create, name, resources[name], resolver, stack)
                            for name in order.get_ready()}  # fmt: skip
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    order.done(future.result())
        for group in stack.physical("AWS::CodeDeploy::DeploymentGroup").values():
            config = group.properties.get("DeploymentConfigName", "CodeDeployDefault.LambdaAllAtOnce")
            log.warning(
                "%s: deployment preference %s not simulated: locally an alias points at its new version at once",
                group.logical_id, config,
            )  # fmt: skip
        for name, output in template.get("Outputs", {}).items():
            condition = output.get("Condition")
            if condition and not resolver.condition(condition):
                continue
            stack.outputs[name] = resolver.resolve(output["Value"])
        return stack

    def _create(self, logical_id: str, definition: dict[str, Any], resolver: Resolver, stack: LocalStack) -> str:
        condition = definition.get("Condition")
        if condition and not resolver.condition(condition):
            stack.skipped.append(logical_id)
            return logical_id
        try:
            properties = self._dereference(resolver.resolve(definition.get("Properties", {})))
        except (IntrinsicError, KeyError) as error:
            raise ProvisioningError(f"{logical_id}: cannot resolve its properties: {error}") from error
        creator = self._creators.get(definition["Type"])
        if creator is None:
            creator = self._recorded_only  # infra.cloudformation.inventory lists what it is
        resource = creator(logical_id, properties)
        resource.type = definition["Type"]
        resource.properties = properties
        stack.resources[logical_id] = resource
        return logical_id

    # -- parameters and dynamic references: read from Parameter Store and Secrets Manager ------------------
    def put_parameters(self, values: Mapping[str, str]) -> None:
        """Parameters the stack reads but does not create (SSM-typed template parameters, `{{resolve:ssm:...}}`):
        on AWS someone puts them there before the deploy; `python -m infra run --ssm-parameter NAME=VALUE`."""
        for name, value in values.items():
            self._ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)

    def _parameter_values(self, declared: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
        """The values Ref answers for the template's parameters: an `AWS::SSM::Parameter::Value<...>`
        parameter's value is a Parameter Store name, resolved now as CloudFormation does at each deploy;
        list types (`List<...>`, `CommaDelimitedList`) are lists."""
        values: dict[str, Any] = {}
        for name, given_value in given.items():
            kind = str(declared.get(name, {}).get("Type", "String"))
            value = given_value
            ssm_typed = SSM_PARAMETER_TYPE.fullmatch(kind)
            if ssm_typed:
                value = self._ssm_value(given_value, decrypt=False, wanted=f"parameter {name} ({kind})")
                kind = ssm_typed.group(1)
            values[name] = value.split(",") if LIST_PARAMETER_TYPE.fullmatch(kind) else value
        return values

    def _ssm_value(self, name: str, *, decrypt: bool, wanted: str) -> str:
        try:
            parameter = self._ssm.get_parameter(Name=name, WithDecryption=decrypt)["Parameter"]
        except ClientError as error:
            _raise_unless(error, "ParameterNotFound", "ParameterVersionNotFound")
            raise ProvisioningError(
                f"{wanted}: Parameter Store has no {name!r} (put it there first, e.g. "
                f"`python -m infra run --ssm-parameter {name.split(':', maxsplit=1)[0]}=VALUE`)"
            ) from None
        if parameter["Type"] == "SecureString" and not decrypt:
            raise ProvisioningError(f"{wanted}: {name!r} is a SecureString, which only ssm-secure references read")
        return str(parameter["Value"])

    def _dereference(self, value: Any) -> Any:
        """Replace the dynamic references in resolved properties with what they name, as CloudFormation does
        when it creates the resource. A reference to a parameter or secret of this stack needs a dependency
        (a Sub of its Ref, or DependsOn), as on AWS."""
        if isinstance(value, dict):
            return {key: self._dereference(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._dereference(item) for item in value]
        if isinstance(value, str) and "{{resolve:" in value:
            return DYNAMIC_REFERENCE.sub(lambda match: self._dynamic_value(match.group(1), match.group(2)), value)
        return value

    def _dynamic_value(self, service: str, reference: str) -> str:
        wanted = f"{{{{resolve:{service}:{reference}}}}}"
        if service in ("ssm", "ssm-secure"):
            name, _, version = reference.rpartition(":")
            selector = f"{name}:{version}" if name and version.isdigit() else reference
            return self._ssm_value(selector, decrypt=service == "ssm-secure", wanted=wanted)
        # secret-id:SecretString:json-key:version-stage:version-id, where the id may be an ARN (with colons)
        parts = reference.split(":")
        split_at = 7 if reference.startswith("arn:") else 1
        secret_id = ":".join(parts[:split_at])
        field_name, key, stage, version_id = [*parts[split_at:], "", "", "", ""][:4]
        if field_name not in ("", "SecretString"):
            raise ProvisioningError(f"{wanted}: only SecretString can be referenced")
        request = {"SecretId": secret_id}
        if stage:
            request["VersionStage"] = stage
        if version_id:
            request["VersionId"] = version_id
        try:
            secret = str(self._secrets.get_secret_value(**request)["SecretString"])
        except ClientError as error:
            _raise_unless(error, "ResourceNotFoundException")
            raise ProvisioningError(f"{wanted}: Secrets Manager has no such secret (or version)") from None
        if not key:
            return secret
        try:
            field_value = json.loads(secret)[key]
        except (ValueError, TypeError, KeyError):
            raise ProvisioningError(f"{wanted}: the secret is not a JSON object with the key {key!r}") from None
        return field_value if isinstance(field_value, str) else json.dumps(field_value)

    @staticmethod
    def _dependency_order(resources: Mapping[str, Any]) -> TopologicalSorter[str]:
        graph: dict[str, set[str]] = {}
        for logical_id, definition in resources.items():
            depends_on = definition.get("DependsOn", [])
            depends = {depends_on} if isinstance(depends_on, str) else set(depends_on)
            depends |= references(definition.get("Properties", {}))
            graph[logical_id] = {name for name in depends if name in resources}
        order = TopologicalSorter(graph)
        try:
            order.prepare()
        except CycleError as error:
            raise ProvisioningError(f"circular dependency between resources: {error.args[1]}") from error
        return order

    @staticmethod
    def _ref(stack: LocalStack, name: str) -> Any:
        if name in stack.resources:
            return stack.resources[name].ref
        if name in stack.skipped:
            return NO_VALUE
        raise IntrinsicError(f"Ref to unknown or not yet created resource {name!r}")

    @staticmethod
    def _get_att(stack: LocalStack, name: str, attribute: str) -> Any:
        resource = stack.resources.get(name)
        if resource is None:
            raise IntrinsicError(f"Fn::GetAtt {name}.{attribute}: unknown resource")
        if attribute not in resource.attributes:
            raise IntrinsicError(f"Fn::GetAtt {name}.{attribute}: {resource.type} has no such attribute")
        return resource.attributes[attribute]

    def _physical_name(self, logical_id: str, given: Any) -> str:
        # CloudFormation would append a random suffix; a stable local name is easier to read and type.
        return str(given) if given else f"{self._stack_name}-{logical_id}"

    # -- creators ---------------------------------------------------------------------------------
    def _recorded_only(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        # IAM roles, permissions, log groups, ...: nothing local enforces them, but they still have names.
        name = self._physical_name(logical_id, None)
        # What the template reads of recorded CloudFront resources (an OAC's Id, a distribution's domain, a
        # function's ARN) gets stable placeholders, so outputs and references still resolve.
        return PhysicalResource(logical_id, "", name, {
            "Arn": _arn("local", name), "Name": name, "Id": name, "DomainName": f"{name}.cloudfront.invalid",
            "FunctionARN": _arn("local", name),
        })  # fmt: skip

    def _table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = self._physical_name(logical_id, props.get("TableName"))
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        throughput = props.get("ProvisionedThroughput")
        if request["BillingMode"] == "PROVISIONED":
            request["ProvisionedThroughput"] = throughput or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                request[key] = props[key]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        try:
            description = self._dynamodb.create_table(**request)["TableDescription"]
        except ClientError as error:
            _raise_unless(error, "ResourceInUseException")  # a persisted cloud's table: kept with its items
            description = self._dynamodb.describe_table(TableName=name)["Table"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            try:
                self._dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            except ClientError as error:
                _raise_unless(error, "ValidationException")  # already enabled, on a persisted table
            assert self._stack is not None
            self._stack.ttl_tables.append(TtlTableSpec(name, str(ttl["AttributeName"])))
        attributes = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes["StreamArn"] = description["LatestStreamArn"]
        return PhysicalResource(logical_id, "", name, attributes)

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        # S3 bucket names are lower case; logical ids are not.
        name = str(props.get("BucketName") or f"{self._stack_name}-{logical_id}".lower())
        try:
            self._s3.create_bucket(Bucket=name)
        except ClientError as error:
            _raise_unless(error, "BucketAlreadyOwnedByYou", "BucketAlreadyExists")
        versioning = props.get("VersioningConfiguration")
        if versioning:  # overwrites keep earlier versions, as on AWS (what erasing personal data must undo)
            self._s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        cors = props.get("CorsConfiguration")
        if cors:
            self._s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": cors["CorsRules"]})
        notifications = props.get("NotificationConfiguration")
        if notifications:
            assert self._stack is not None
            self._stack.bucket_notifications.append(BucketNotificationSpec(logical_id, name, notifications))
        host = self._endpoints.moto.split("://", 1)[1]
        return PhysicalResource(
            logical_id,
            "",
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
                "WebsiteURL": f"http://{host}/{name}",
            },
        )

    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        # moto enforces bucket policies for unsigned requests, so a policy that makes objects public works here.
        bucket = str(props["Bucket"])
        document = props["PolicyDocument"]
        policy = document if isinstance(document, str) else json.dumps(document)
        self._s3.put_bucket_policy(Bucket=bucket, Policy=policy)
        return PhysicalResource(logical_id, "", bucket, {})

    def _queue(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = self._physical_name(logical_id, props.get("QueueName"))
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        attributes: dict[str, str] = {}
        for key, value in props.items():
            if key in {"QueueName", "Tags"}:
                continue
            attributes[key] = (
                json.dumps(value)
                if isinstance(value, dict)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
        try:
            url = self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        except ClientError as error:  # a persisted queue whose attributes the template changed
            _raise_unless(error, "QueueAlreadyExists", "QueueNameExists")
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self._sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        return PhysicalResource(logical_id, "", url, {"Arn": _arn("sqs", name), "QueueName": name, "QueueUrl": url})

    def _topic(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = self._physical_name(logical_id, props.get("TopicName"))
        arn = self._sns.create_topic(Name=name)["TopicArn"]
        return PhysicalResource(logical_id, "", arn, {"TopicArn": arn, "TopicName": name})

    def _secret(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = self._physical_name(logical_id, props.get("Name"))
        value = props.get("SecretString")
        if value is None:
            value = _generated_secret(props.get("GenerateSecretString") or {})
        try:
            arn = self._secrets.create_secret(Name=name, SecretString=str(value))["ARN"]
        except ClientError as error:
            _raise_unless(error, "ResourceExistsException")  # persisted: keeps its value (e.g. a signing key)
            arn = self._secrets.describe_secret(SecretId=name)["ARN"]
        return PhysicalResource(logical_id, "", arn, {"Id": arn})

    def _ssm_parameter(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = self._physical_name(logical_id, props.get("Name"))
        kind, value = str(props.get("Type", "String")), text(props["Value"])
        optional = {key: str(props[key]) for key in ("Description", "AllowedPattern", "Tier", "DataType")
                    if key in props}  # fmt: skip
        # Overwrite: a persisted cloud's parameter takes the template's value, as a stack update would.
        self._ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True, **optional)
        return PhysicalResource(logical_id, "", name, {"Type": kind, "Value": value})

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = str(props["Name"])
        try:
            arn = self._events.create_event_bus(Name=name)["EventBusArn"]
        except ClientError as error:
            _raise_unless(error, "ResourceAlreadyExistsException")
            arn = self._events.describe_event_bus(Name=name)["Arn"]
        return PhysicalResource(logical_id, "", name, {"Arn": arn, "Name": name})

    def _email_identity(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        # On AWS the address's owner confirms it; moto's SES sends only from verified identities, so verify it.
        identity = str(props["EmailIdentity"])
        self._ses.verify_email_identity(EmailAddress=identity)
        return PhysicalResource(logical_id, "", identity, {})

    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        api_members = self._cognito.meta.service_model.operation_model("CreateUserPool").input_shape.members
        request = {key: value for key, value in props.items() if key in api_members}
        request["PoolName"] = str(props.get("UserPoolName") or self._physical_name(logical_id, None))
        # A pool's id is random, so a persisted pool is found by its name (its users, groups and keys kept).
        existing = [pool for page in self._cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
                    for pool in page["UserPools"] if pool["Name"] == request["PoolName"]]  # fmt: skip
        if existing:
            pool = self._cognito.describe_user_pool(UserPoolId=existing[0]["Id"])["UserPool"]
        else:
            pool = self._cognito.create_user_pool(**request)["UserPool"]
        pool_id = pool["Id"]
        provider = f"cognito-idp.{REGION}.amazonaws.com/{pool_id}"
        return PhysicalResource(
            logical_id,
            "",
            pool_id,
            {
                "Arn": pool["Arn"],
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": pool_id,
            },
        )

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        api_members = self._cognito.meta.service_model.operation_model("CreateUserPoolClient").input_shape.members
        request = {key: value for key, value in props.items() if key in api_members}
        request["ClientName"] = str(props.get("ClientName") or logical_id)
        pool_id = request["UserPoolId"]
        pages = self._cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60)
        existing = [client["ClientId"] for page in pages for client in page["UserPoolClients"]
                    if client["ClientName"] == request["ClientName"]]  # fmt: skip
        if existing:
            client = self._cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=existing[0])["UserPoolClient"]
        else:
            client = self._cognito.create_user_pool_client(**request)["UserPoolClient"]
        return PhysicalResource(logical_id, "", client["ClientId"], {"ClientSecret": client.get("ClientSecret", "")})

    def _user_pool_group(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        request = {
            key: value
            for key, value in props.items()
            if key in {"GroupName", "UserPoolId", "Description", "Precedence"}
        }
        try:
            self._cognito.create_group(**request)
        except ClientError as error:
            _raise_unless(error, "GroupExistsException")
        return PhysicalResource(logical_id, "", str(props["GroupName"]))

    def _layer(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = str(props.get("LayerName") or logical_id)
        arn = _arn("lambda", f"layer:{name}:1")
        content = local_code_path(props.get("Content"), self._root)
        # sam build builds a layer only when its Metadata names a BuildMethod (python3.x: its requirements.txt)
        build_method = str(self._metadata.get(logical_id, {}).get("BuildMethod", ""))
        if content is not None and build_method.startswith("python"):
            packages = self._build(content)
            if packages is not None:
                self._layer_packages[logical_id] = packages
        return PhysicalResource(logical_id, "", arn, {"LayerVersionArn": arn})

    def _build(self, source: Path) -> Path | None:
        if self._build_dir is None:
            return None
        try:
            build = install_requirements(source, self._build_dir)
        except BuildError as error:
            raise ProvisioningError(str(error)) from error
        assert self._stack is not None
        self._stack.builds.append(build)
        return build.packages

    def _layer_dirs(self, layer_arn: str) -> tuple[Path, ...]:
        assert self._stack is not None
        for layer in self._stack.physical("AWS::Lambda::LayerVersion").values():
            if layer.ref == layer_arn:
                content = local_code_path(layer.properties.get("Content"), self._root)
                if content is None:
                    raise ProvisioningError(f"layer {layer.logical_id} has no local content")
                # Lambda puts a layer's python/ folder on sys.path (/opt/python); sam build installs its
                # requirements there too.
                python_dir = content / "python"
                packages = self._layer_packages.get(layer.logical_id)
                return (python_dir if python_dir.is_dir() else content, *([packages] if packages else []))
        raise ProvisioningError(f"layer {layer_arn} is not a layer of this template")

    def _function(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = str(props.get("FunctionName") or logical_id)
        arn = _arn("lambda", f"function:{name}")
        code_dir = local_code_path(props.get("Code"), self._root)
        if code_dir is None:
            raise ProvisioningError(f"{logical_id}: only local CodeUri folders can run locally")
        runtime = str(props.get("Runtime", ""))
        if not runtime.startswith("python3"):
            raise ProvisioningError(f"{logical_id}: runtime {runtime!r} cannot run locally (python only)")
        variables = props.get("Environment", {}).get("Variables", {})
        # sam build installs requirements.txt beside the code (a makefile BuildMethod's own steps are not run
        # here: its requirements.txt is installed the same way)
        packages = self._build(code_dir)
        assert self._stack is not None
        self._stack.functions[name] = FunctionSpec(
            name=name,
            arn=arn,
            handler=str(props["Handler"]),
            code_dir=code_dir,
            layer_dirs=tuple(path for layer in props.get("Layers", []) for path in self._layer_dirs(str(layer))),
            runtime=runtime,
            environment={key: text(value) for key, value in variables.items()},
            timeout_seconds=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
            reserved_concurrency=(
                int(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
            ),
            package_dirs=(packages,) if packages else (),
            runtime_dirs=self._runtime_dirs,
        )
        return PhysicalResource(logical_id, "", name, {"Arn": arn})

    def _function_of(self, logical_id: str, reference: Any) -> FunctionSpec:
        """The $LATEST spec of the function a FunctionName property names (name, partial or full ARN)."""
        assert self._stack is not None
        name = function_reference(str(reference)).split(":", 1)[0]
        spec = self._stack.functions.get(name)
        if spec is None:
            raise ProvisioningError(f"{logical_id}: FunctionName {reference!r} is not a function of this template")
        return spec

    def _version(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        # Publishing snapshots the function's configuration as it is now; numbers count up from 1 per function.
        assert self._stack is not None
        latest = self._function_of(logical_id, props["FunctionName"])
        with self._versions_lock:
            number = str(1 + sum(1 for spec in self._stack.function_versions if spec.name == latest.name))
            version = replace(latest, version=number)
            self._stack.function_versions.append(version)
        arn = version.qualified_arn
        return PhysicalResource(logical_id, "", arn, {"FunctionArn": arn, "Version": number})

    def _alias(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        assert self._stack is not None
        function = self._function_of(logical_id, props["FunctionName"])
        target = str(props["FunctionVersion"])
        published = {spec.version for spec in self._stack.function_versions if spec.name == function.name}
        if target != LATEST and target not in published:
            raise ProvisioningError(f"{logical_id}: {function.name} has no version {target!r}")
        if props.get("RoutingConfig"):
            log.warning("%s: RoutingConfig (weighted alias) not simulated: every invocation runs version %s",
                        logical_id, target)  # fmt: skip
        alias = AliasSpec(function.name, str(props["Name"]), target, f"{function.arn}:{props['Name']}")
        self._stack.aliases.append(alias)
        return PhysicalResource(logical_id, "", alias.arn, {"AliasArn": alias.arn, "Name": alias.name})

    def _http_api(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        body = props.get("Body")
        if not isinstance(body, dict):
            raise ProvisioningError(f"{logical_id}: only HTTP APIs with an inline OpenAPI Body are supported")
        api_id = _random_id()
        authorizers = {
            name: JwtAuthorizer(
                name=name,
                issuer=str(scheme["x-amazon-apigateway-authorizer"]["jwtConfiguration"]["issuer"]),
                audiences=tuple(scheme["x-amazon-apigateway-authorizer"]["jwtConfiguration"].get("audience", [])),
                identity_source=str(scheme["x-amazon-apigateway-authorizer"].get("identitySource", "")),
            )
            for name, scheme in body.get("components", {}).get("securitySchemes", {}).items()
            if scheme.get("x-amazon-apigateway-authorizer", {}).get("type") == "jwt"
        }
        spec = HttpApiSpec(logical_id=logical_id, api_id=api_id, stage="$default")
        for path, operations in body.get("paths", {}).items():
            for method, operation in operations.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                # .../functions/arn:aws:lambda:REGION:ACCOUNT:function:NAME/invocations
                function_arn = str(integration.get("uri", "")).split("/functions/", 1)[-1].rsplit("/invocations", 1)[0]
                authorizer, scopes = None, ()
                for requirement in operation.get("security", []):
                    for scheme_name, scheme_scopes in requirement.items():
                        if scheme_name in authorizers:
                            authorizer, scopes = authorizers[scheme_name], tuple(scheme_scopes)
                http_method = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                spec.routes.append(Route(http_method, path, function_reference(function_arn), authorizer, scopes))
        cors = body.get("x-amazon-apigateway-cors", {})
        spec.cors_allow_origins = tuple(cors.get("allowOrigins", []))
        assert self._stack is not None
        self._stack.http_apis.append(spec)
        return PhysicalResource(logical_id, "", api_id, {"ApiEndpoint": self._endpoints.api, "ApiId": api_id})

    def _stage(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        assert self._stack is not None
        settings = props.get("DefaultRouteSettings", {})
        for api in self._stack.http_apis:
            if api.api_id == props.get("ApiId"):
                api.stage = str(props.get("StageName", "$default"))
                if "ThrottlingRateLimit" in settings or "ThrottlingBurstLimit" in settings:
                    api.throttle = Throttle(
                        rate_per_second=float(settings.get("ThrottlingRateLimit", 10000)),
                        burst=int(float(settings.get("ThrottlingBurstLimit", 5000))),
                    )
        return PhysicalResource(logical_id, "", str(props.get("StageName", "$default")))

    def _rest_api(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        api_id = _random_id()
        try:
            spec = rest_api_spec(logical_id, api_id, props)
        except RestApiError as error:
            raise ProvisioningError(f"{logical_id}: {error}") from error
        assert self._stack is not None
        self._stack.rest_apis.append(spec)
        # RootResourceId names the "/" resource; nothing local reads resources by id.
        return PhysicalResource(logical_id, "", api_id, {"RestApiId": api_id, "RootResourceId": _random_id(10)})

    def _rest_stage(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        assert self._stack is not None
        for api in self._stack.rest_apis:
            if api.api_id == props.get("RestApiId"):
                stage = dict(props.get("StageDescription") or {}, StageName=props.get("StageName"))
                for feature in add_stage(api, stage if "DeploymentId" not in props else props):
                    if feature not in api.not_served:
                        api.not_served.append(feature)
        # A Deployment's Ref is its id, a Stage's its name.
        ref = str(props.get("StageName", "")) if "DeploymentId" in props else _random_id(6)
        return PhysicalResource(logical_id, "", ref, {"DeploymentId": ref})

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        assert self._stack is not None
        mapping_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self._stack_name}/{logical_id}"))
        self._stack.event_source_mappings.append(
            EventSourceMappingSpec(
                logical_id=logical_id,
                uuid=mapping_id,
                function_name=function_reference(str(props["FunctionName"])),
                event_source_arn=str(props["EventSourceArn"]),
                properties=props,
            )
        )
        return PhysicalResource(logical_id, "", mapping_id, {"Id": mapping_id})

    def _event_rule(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        assert self._stack is not None
        name = str(props.get("Name") or self._physical_name(logical_id, None))
        bus = str(props.get("EventBusName") or "default").rsplit("/", 1)[-1]
        arn = _arn("events", f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}")
        self._stack.event_rules.append(EventRuleSpec(logical_id, name, arn, bus, props))
        return PhysicalResource(logical_id, "", name if bus == "default" else f"{bus}|{name}", {"Arn": arn})

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        assert self._stack is not None
        name = str(props.get("StateMachineName") or self._physical_name(logical_id, None))
        definition = props.get("DefinitionString")
        if definition is None:
            definition = json.dumps(props["Definition"])
        # CloudFormation applies DefinitionSubstitutions (${Name} -> value) to the definition text.
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        kind = str(props.get("StateMachineType", "STANDARD"))
        role = str(props.get("RoleArn", ""))
        if ":iam::" not in role:  # roles are recorded only (no IAM ARN); moto insists on the IAM format
            role = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-role"
        try:
            arn = self._stepfunctions.create_state_machine(
                name=name,
                definition=definition,
                roleArn=role,
                type=kind,
            )["stateMachineArn"]
        except ClientError as error:  # persisted, with another definition: updated, its executions kept
            _raise_unless(error, "StateMachineAlreadyExists")
            arn = _arn("states", f"stateMachine:{name}")
            self._stepfunctions.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
        self._stack.state_machines.append(StateMachineSpec(logical_id, name, arn, definition, kind))
        return PhysicalResource(logical_id, "", arn, {"Arn": arn, "Name": name})
