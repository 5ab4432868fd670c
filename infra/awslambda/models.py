"""The records of Lambda functions and of their event source mappings, as the provisioner builds them.

infra.cloudformation.provision builds these from template.yaml after SAM's own translation; the workers,
the Lambda Invoke API and the event sources (infra.dynamodb.streams, infra.sqs.event_source) read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


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
    # The function's requirements.txt as sam build installs it (infra.awslambda.builds), between code_dir and the
    # layers, where Lambda finds them in /var/task.
    package_dirs: tuple[Path, ...] = ()
    # What the Lambda runtime itself provides (boto3, botocore), last on sys.path: then the worker sees nothing
    # else of the local cloud's packages. None: the local cloud's whole site-packages (specs made by hand).
    runtime_dirs: tuple[Path, ...] | None = None

    @property
    def python_path(self) -> tuple[Path, ...]:
        """Where the function's imports are looked up, before the standard library (and runtime_dirs after)."""
        return (self.code_dir, *self.package_dirs, *self.layer_dirs)


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """An AWS::Lambda::EventSourceMapping (SAM DynamoDB / SQS / Kinesis events)."""

    logical_id: str
    uuid: str
    function_name: str
    event_source_arn: str  # a DynamoDB stream ARN or an SQS queue ARN
    properties: dict[str, Any]  # resolved CloudFormation properties (BatchSize, FilterCriteria, ...)


def with_env_vars(functions: dict[str, FunctionSpec], env_vars: Mapping[str, Any]) -> list[str]:
    """Apply a `sam local invoke --env-vars` document to `functions` in place: its "Parameters" object sets
    variables of every function, an object named after a function (its logical id) that function's, which
    win. As under sam, only variables the template declares for the function change; the others are
    returned ("Function.VARIABLE") so the caller can say they were ignored."""
    for key, values in env_vars.items():
        if not isinstance(values, Mapping):
            raise ValueError(f"--env-vars: {key!r} must map variable names to values")
    ignored = []
    shared = env_vars.get("Parameters", {})
    for name, spec in functions.items():
        wanted = {**shared, **env_vars.get(name, {})}
        declared = {key: str(value) for key, value in wanted.items() if key in spec.environment}
        ignored += [f"{name}.{key}" for key in env_vars.get(name, {}) if key not in spec.environment]
        if declared:
            functions[name] = replace(spec, environment={**spec.environment, **declared})
    unknown = set(env_vars) - set(functions) - {"Parameters"}
    ignored += [f"{name} (not a function of the template)" for name in sorted(unknown)]
    return ignored
