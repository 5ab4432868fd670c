"""What the fault-hook unit tests share: a cloud's FaultControl with one worker's view of it, and boto3 DynamoDB
clients carrying the worker's hook.

The hook answers before anything is sent, so injected calls need no server. A call the hook lets through is
answered by `dynamodb_answers_ok`, a before-send handler registered after it that stands in for DynamoDB with an
empty 200; nothing listens at the endpoint."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from infra.faults.control import FaultControl
from infra.faults.spec import Resources
from infra.faults.worker import WorkerFaults, attach

ENDPOINT = "http://127.0.0.1:9"  # nothing listens: a call that got there would fail to connect
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": "us-east-1"}


class _Body:
    def stream(self, **_: Any) -> Any:
        yield b"{}"


def dynamodb_answers_ok(request: Any, **_: Any) -> AWSResponse:
    return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Body())


class FaultedWorker:
    """A cloud's FaultControl and one worker's view of it, on a seeded draw."""

    def __init__(self, tmp_path: Path, stack: Resources) -> None:
        self.control = FaultControl(tmp_path / "faults", stack)
        self.worker = WorkerFaults(
            str(self.control.spec_file), str(self.control.counts_file), random.Random(1),  # noqa: S311
            calls_file=str(self.control.calls_file), buckets_file=str(self.control.buckets_file),
        )  # fmt: skip

    def set(self, spec: str) -> None:
        self.control.set(spec)
        self.worker.refresh()

    def counts(self) -> dict[str, int]:
        return self.control.counts()

    def client(self, attempts: int = 1) -> Any:
        """A boto3 DynamoDB client with the hook; botocore's legacy retries (DynamoDB's default mode) with
        `attempts` attempts, so that a throttled call gives up quickly."""
        config = Config(retries={"mode": "legacy", "total_max_attempts": attempts})
        client = boto3.client("dynamodb", endpoint_url=ENDPOINT, config=config, **CREDENTIALS)
        attach(client, self.worker)
        client.meta.events.register("before-send.dynamodb.*", dynamodb_answers_ok)
        return client
