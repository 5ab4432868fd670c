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
import secrets
import string
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infra.apigateway.models import HttpApiSpec, JwtAuthorizer, Route, Throttle
from infra.awslambda.models import EventSourceMappingSpec, FunctionSpec
from infra.cloudformation.intrinsics import NO_VALUE, IntrinsicError, Resolver, references
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
# Recorded-only types that behave here as they need to, so start-up does not list them as not emulated: IAM and
# invoke permissions (recorded, not enforced), log groups (functions log to files), queue policies, and what
# the gateway plays from the stack (the edge's web ACL and response headers policy).
PLAYED_OR_PASSIVE = frozenset({
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Lambda::Permission", "AWS::Logs::LogGroup", "AWS::SQS::QueuePolicy",
    "AWS::WAFv2::WebACL", "AWS::CloudFront::ResponseHeadersPolicy",
})  # fmt: skip


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
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    http_apis: list[HttpApiSpec] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # resources whose Condition is false
    recorded_only: list[str] = field(default_factory=list)  # types of resources nothing local creates
    # Event sources, recorded with their resolved CloudFormation properties; the components in
    # service packages deliver them (infra.cloud.build_components).
    event_source_mappings: list[EventSourceMappingSpec] = field(default_factory=list)
    bucket_notifications: list[BucketNotificationSpec] = field(default_factory=list)
    event_rules: list[EventRuleSpec] = field(default_factory=list)
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
            value = str(spec["Default"])
        else:
            raise ProvisioningError(f"parameter {name} has no Default and was not given")
        allowed = spec.get("AllowedValues")
        if allowed and value not in [str(item) for item in allowed]:
            raise ProvisioningError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


class Provisioner:
    def __init__(self, endpoints: Endpoints, root: Path, stack_name: str) -> None:
        self._endpoints = endpoints
        self._root = root
        self._stack_name = stack_name

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
        self._creators: dict[str, Callable[[str, dict[str, Any]], PhysicalResource]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::Lambda::LayerVersion": self._layer,
            "AWS::Lambda::Function": self._function,
            "AWS::ApiGatewayV2::Api": self._http_api,
            "AWS::ApiGatewayV2::Stage": self._stage,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::Events::Rule": self._event_rule,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::SES::EmailIdentity": self._email_identity,
        }
        self._stack: LocalStack | None = None

    # -- driver -----------------------------------------------------------------------------------
    def provision(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> LocalStack:
        stack = LocalStack(name=self._stack_name, parameters=dict(parameters))
        self._stack = stack
        resources: dict[str, Any] = template.get("Resources", {})
        pseudo = {
            "AWS::Region": self._endpoints.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self._stack_name,
            "AWS::StackId": _arn("cloudformation", f"stack/{self._stack_name}/local"),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        resolver = Resolver(
            parameters={**pseudo, **parameters},
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
        not_emulated = Counter(kind for kind in stack.recorded_only if kind not in PLAYED_OR_PASSIVE)
        if not_emulated:
            listed = ", ".join(f"{kind} x{count}" for kind, count in sorted(not_emulated.items()))
            log.info("recorded, not emulated: %s", listed)
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
            properties = resolver.resolve(definition.get("Properties", {}))
        except (IntrinsicError, KeyError) as error:
            raise ProvisioningError(f"{logical_id}: cannot resolve its properties: {error}") from error
        creator = self._creators.get(definition["Type"])
        if creator is None:
            creator = self._recorded_only
            stack.recorded_only.append(definition["Type"])
        resource = creator(logical_id, properties)
        resource.type = definition["Type"]
        resource.properties = properties
        stack.resources[logical_id] = resource
        return logical_id

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
        return PhysicalResource(logical_id, "", arn, {"LayerVersionArn": arn})

    def _layer_dir(self, layer_arn: str) -> Path:
        assert self._stack is not None
        for layer in self._stack.physical("AWS::Lambda::LayerVersion").values():
            if layer.ref == layer_arn:
                content = local_code_path(layer.properties.get("Content"), self._root)
                if content is None:
                    raise ProvisioningError(f"layer {layer.logical_id} has no local content")
                # Lambda puts a layer's python/ folder on sys.path (/opt/python).
                python_dir = content / "python"
                return python_dir if python_dir.is_dir() else content
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
        assert self._stack is not None
        self._stack.functions[name] = FunctionSpec(
            name=name,
            arn=arn,
            handler=str(props["Handler"]),
            code_dir=code_dir,
            layer_dirs=tuple(self._layer_dir(str(layer)) for layer in props.get("Layers", [])),
            runtime=runtime,
            environment={key: str(value) for key, value in variables.items()},
            timeout_seconds=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
            reserved_concurrency=(
                int(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
            ),
        )
        return PhysicalResource(logical_id, "", name, {"Arn": arn})

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
                spec.routes.append(Route(http_method, path, function_arn.rsplit(":", 1)[-1], authorizer, scopes))
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

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        assert self._stack is not None
        mapping_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self._stack_name}/{logical_id}"))
        self._stack.event_source_mappings.append(
            EventSourceMappingSpec(
                logical_id=logical_id,
                uuid=mapping_id,
                function_name=str(props["FunctionName"]).rsplit(":", 1)[-1],
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
