"""The one place that builds boto3 clients, for the local cloud itself and for whoever points at it.

- local_client(service, endpoint, region=..., **config): a client of one local service (moto, DynamoDB
  Local, our Lambda API) with the local credentials. Keyword options are botocore Config options
  (timeouts, retries, pool size), so each caller keeps its own. Every client comes from one shared
  botocore session, under a lock: building clients is not thread-safe, and a shared session loads each
  service's model once (the event sources, the provisioner and moto's Step Functions tasks build theirs
  from several threads).
- sdk_client(service, environment): a client configured from AWS_* variables as the SDK itself reads
  them, for tests, benchmarks and the CLI, which may also point at a deployed stack.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import Any

from infra.core.aws import REGION

LOCAL_KEY = "local"  # moto, DynamoDB Local and our Lambda API accept any credentials
# boto3 service names whose AWS_ENDPOINT_URL_<SERVICE> variable is not simply the name upper-cased.
_ENDPOINT_NAMES = {"events": "EVENTBRIDGE", "stepfunctions": "SFN", "cognito-idp": "COGNITO_IDENTITY_PROVIDER",
                   "dynamodbstreams": "DYNAMODB_STREAMS"}  # fmt: skip

_lock = threading.Lock()


@functools.cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()


def local_client(service: str, endpoint: str, region: str = REGION, **config: Any) -> Any:
    """A boto3 client of `service` at a local `endpoint`; `config` holds botocore Config options."""
    from botocore.config import Config

    with _lock:
        return _session().client(
            service, region_name=region, endpoint_url=endpoint, config=Config(**config) if config else None,
            aws_access_key_id=LOCAL_KEY, aws_secret_access_key=LOCAL_KEY,
        )  # fmt: skip


def sdk_client(service: str, environment: Mapping[str, str]) -> Any:
    """A boto3 client configured from AWS_* variables as the SDK itself reads them: the service's own
    AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, AWS_REGION and the keys. Variables missing from
    `environment` fall back to boto3's defaults (an AWS account, for tests against a deployed stack)."""
    import boto3

    variable = f"AWS_ENDPOINT_URL_{_ENDPOINT_NAMES.get(service, service.upper())}"
    options: dict[str, Any] = {}
    endpoint = environment.get(variable) or environment.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["endpoint_url"] = endpoint
    if environment.get("AWS_REGION"):
        options["region_name"] = environment["AWS_REGION"]
    if environment.get("AWS_ACCESS_KEY_ID"):
        options["aws_access_key_id"] = environment["AWS_ACCESS_KEY_ID"]
        options["aws_secret_access_key"] = environment.get("AWS_SECRET_ACCESS_KEY")
    return boto3.client(service, **options)
