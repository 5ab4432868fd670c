"""The boto3 clients the shop uses, each built once per process (a client costs milliseconds to make).

Endpoints, region and credentials are resolved the standard way (AWS_ENDPOINT_URL_<SERVICE>, AWS_REGION,
...), which is how the same code reaches the local cloud or AWS. DynamoDB is reached through pynamodb
(shop.dynamodb); powertools' idempotency layer is given dynamodb() below rather than making a client from a
boto3 session of its own, which would load the DynamoDB service model again (~45 ms on a cold start).
Tests that swap the AWS behind the clients call forget_clients().
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config


@cache
def dynamodb() -> Any:
    """DynamoDB for powertools' idempotency layer (shop.idempotency); the shop's own tables go through pynamodb."""
    return boto3.client("dynamodb")


@cache
def events() -> Any:
    """EventBridge: domain events go to the stack's bus (shop.events)."""
    return boto3.client("events")


@cache
def stepfunctions() -> Any:
    """Step Functions: checkout starts the saga; payments answer its waiting task."""
    return boto3.client("stepfunctions")


@cache
def s3() -> Any:
    """S3, signing with SigV4: the presigned POST policies of image and import uploads need it in every region."""
    return boto3.client("s3", config=Config(signature_version="s3v4"))


@cache
def cognito() -> Any:
    """The Cognito user pool (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER locally)."""
    return boto3.client("cognito-idp")


@cache
def ses() -> Any:
    """SES: notification emails (shop.notifications); moto's SES locally, read back at GET /_local/mail."""
    return boto3.client("ses")


def forget_clients() -> None:
    """Make the next use of each client build a new one (tests that swap the AWS behind them)."""
    for client in (dynamodb, events, stepfunctions, s3, cognito, ses):
        client.cache_clear()
