"""The records of Lambda functions and of their event source mappings, as the provisioner builds them.

infra.cloudformation.provision builds these from template.yaml after SAM's own translation; the workers,
the Lambda Invoke API and the event sources (infra.dynamodb.streams, infra.sqs.event_source) read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
class EventSourceMappingSpec:
    """An AWS::Lambda::EventSourceMapping (SAM DynamoDB / SQS / Kinesis events)."""

    logical_id: str
    uuid: str
    function_name: str
    event_source_arn: str  # a DynamoDB stream ARN or an SQS queue ARN
    properties: dict[str, Any]  # resolved CloudFormation properties (BatchSize, FilterCriteria, ...)
