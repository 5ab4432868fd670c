"""The SQS retention check infra.sqs.moto_hooks installs in the moto server answers as moto's own does."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import SQSBackend, sqs_backends

from infra.core.aws import ACCOUNT_ID, REGION
from infra.sqs import moto_hooks

ORIGINAL = SQSBackend.is_message_valid_based_on_retention_period


@pytest.fixture
def queue():
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="retained", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="first")
        backend = sqs_backends[ACCOUNT_ID][REGION]
        [message] = backend.get_queue("retained").messages
        yield backend, message


def test_a_fresh_message_is_valid_for_both(queue):
    backend, message = queue
    assert ORIGINAL(backend, "retained", message) is True
    assert moto_hooks.is_message_valid_based_on_retention_period(backend, "retained", message) is True


def test_an_expired_message_is_invalid_for_both(queue):
    backend, message = queue
    message.sent_timestamp -= 61_000  # sent 61 s ago; the queue keeps messages 60 s
    assert ORIGINAL(backend, "retained", message) is False
    assert moto_hooks.is_message_valid_based_on_retention_period(backend, "retained", message) is False


def test_install_replaces_the_method(monkeypatch):
    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", ORIGINAL)
    moto_hooks.install()
    patched = SQSBackend.is_message_valid_based_on_retention_period
    assert patched is moto_hooks.is_message_valid_based_on_retention_period
