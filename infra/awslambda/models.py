"""The records of Lambda functions and of their event source mappings, as the provisioner builds them.

infra.cloudformation.provision builds these from template.yaml after SAM's own translation; the workers,
the Lambda Invoke API and the event sources (infra.dynamodb.streams, infra.sqs.event_source) read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

LATEST = "$LATEST"


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Lambda::Function, resolved to local values."""

    name: str  # local function name: the template's logical id (e.g. "CatalogFunction")
    arn: str
    handler: str  # "module.attribute", e.g. "app.lambda_handler"
    code_dir: Path  # absolute path of the CodeUri folder
    # On sys.path after code_dir: each layer's python/ dir and the folder its requirements were built into
    layer_dirs: tuple[Path, ...]
    runtime: str
    environment: dict[str, str]  # the template's Environment.Variables only, intrinsics resolved
    timeout_seconds: int
    memory_mb: int
    reserved_concurrency: int | None = None
    # "$LATEST", or the number of a published version (AWS::Lambda::Version): locally a snapshot of the
    # function's configuration when the version was provisioned, run in execution environments of its own.
    version: str = LATEST
    # The function's requirements.txt as sam build installs it (infra.awslambda.builds), between code_dir and the
    # layers, where Lambda finds them in /var/task.
    package_dirs: tuple[Path, ...] = ()
    # What the Lambda runtime itself provides (boto3, botocore), last on sys.path: then the worker sees nothing
    # else of the local cloud's packages. None: the local cloud's whole site-packages (specs made by hand).
    runtime_dirs: tuple[Path, ...] | None = None

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{self.version}"

    @property
    def python_path(self) -> tuple[Path, ...]:
        """Where the function's imports are looked up, before the standard library (and runtime_dirs after)."""
        return (self.code_dir, *self.package_dirs, *self.layer_dirs)


@dataclass(frozen=True)
class AliasSpec:
    """An AWS::Lambda::Alias (AutoPublishAlias makes one): a name that points at one version of a function."""

    function_name: str
    name: str
    function_version: str  # a published version's number, or "$LATEST"
    arn: str  # the function's ARN qualified by the alias name


def function_reference(name_or_arn: str) -> str:
    """`name` or `name:qualifier` for a function name, a partial or a full ARN, qualified or not: the short
    form the runtime resolves (FunctionRuntime.resolve) and the event sources show in their logs."""
    parts = name_or_arn.split(":")
    if parts[0] == "arn" and len(parts) >= 7:  # arn:aws:lambda:REGION:ACCOUNT:function:name[:qualifier]
        parts = parts[6:]
    elif len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:name[:qualifier]
        parts = parts[2:]
    return ":".join(parts)


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """An AWS::Lambda::EventSourceMapping (SAM DynamoDB / SQS / Kinesis events)."""

    logical_id: str
    uuid: str
    function_name: str  # "Name", or "Name:qualifier" for a mapping on an alias or a version
    event_source_arn: str  # a DynamoDB stream ARN or an SQS queue ARN
    properties: dict[str, Any]  # resolved CloudFormation properties (BatchSize, FilterCriteria, ...)


def with_env_vars(
    functions: dict[str, FunctionSpec], env_vars: Mapping[str, Any], versions: list[FunctionSpec] | None = None
) -> list[str]:
    """Apply a `sam local invoke --env-vars` document to `functions` in place: its "Parameters" object sets
    variables of every function, an object named after a function (its logical id) that function's, which
    win. As under sam, only variables the template declares for the function change; the others are
    returned ("Function.VARIABLE") so the caller can say they were ignored. `versions` (published versions,
    replaced in place) get the same variables as their function: sam runs a function as the template
    declares it whatever alias calls it, and here the API and the event sources may call it by an alias."""
    for key, values in env_vars.items():
        if not isinstance(values, Mapping):
            raise ValueError(f"--env-vars: {key!r} must map variable names to values")
    ignored = []
    shared = env_vars.get("Parameters", {})

    def overridden(spec: FunctionSpec) -> FunctionSpec:
        wanted = {**shared, **env_vars.get(spec.name, {})}
        declared = {key: str(value) for key, value in wanted.items() if key in spec.environment}
        return replace(spec, environment={**spec.environment, **declared}) if declared else spec

    for name, spec in functions.items():
        ignored += [f"{name}.{key}" for key in env_vars.get(name, {}) if key not in spec.environment]
        functions[name] = overridden(spec)
    if versions is not None:
        versions[:] = [overridden(spec) for spec in versions]
    unknown = set(env_vars) - set(functions) - {"Parameters"}
    ignored += [f"{name} (not a function of the template)" for name in sorted(unknown)]
    return ignored
