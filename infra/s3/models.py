"""The record of a bucket's NotificationConfiguration, delivered by infra.s3.notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BucketNotificationSpec:
    """An S3 bucket's NotificationConfiguration (SAM S3 events become LambdaConfigurations)."""

    logical_id: str
    bucket: str
    configuration: dict[str, Any]  # resolved: {"LambdaConfigurations": [{"Event", "Function", "Filter"}], ...}
