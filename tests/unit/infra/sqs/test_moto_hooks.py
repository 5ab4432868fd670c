"""The moto SQS fixes infra.sqs.moto_hooks installs in the moto server: the retention check answers as moto's
own does, and concurrent receives, deletes and sends are safe."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

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


@pytest.fixture
def hooked(monkeypatch):
    """The hooks installed for one test: every method they replace is restored afterwards."""
    from moto.sqs.models import Queue

    for owner, name in [(SQSBackend, "receive_message"), (SQSBackend, "change_message_visibility"),
                        (SQSBackend, "purge_queue"), (SQSBackend, "is_message_valid_based_on_retention_period"),
                        (Queue, "delete_message"), (SQSBackend, "send_message"), (SQSBackend, "send_message_batch"),
                        (Queue, "messages"), *[(Queue, name) for name in moto_hooks.MESSAGE_COUNTS]]:  # fmt: skip
        monkeypatch.setattr(owner, name, getattr(owner, name))
    moto_hooks.install()


def _queue_of(sqs: Any, name: str, messages: int) -> str:
    """A new queue holding `messages` messages (sent ten to a batch); its URL."""
    url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    for start in range(0, messages, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{start + n}"}
                                                      for n in range(10)])  # fmt: skip
    return url


def test_concurrent_receivers_never_get_the_same_message(hooked):
    # moto's server answers on many threads; unpatched, this hands out ~2 of 400 messages twice (and can
    # raise "Set changed size during iteration"), as two pollers of one event source did under load.
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        _queue_of(sqs, "busy", 400)
        backend = sqs_backends[ACCOUNT_ID][REGION]
        received: list[str] = []
        errors: list[BaseException] = []

        def receiver() -> None:
            try:
                while batch := backend.receive_message("busy", 10, 0, 30):
                    received.extend(message.id for message in batch)
                    for message in batch[::2]:  # deletes race the other receives too
                        backend.delete_message("busy", message.receipt_handle)
            except BaseException as error:
                errors.append(error)

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows every time
        try:
            threads = [threading.Thread(target=receiver) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)
    assert errors == []
    assert len(received) == len(set(received)) == 400


def test_a_long_poll_waits_outside_the_lock_and_wakes_on_a_send(hooked):
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="quiet")["QueueUrl"]
        backend = sqs_backends[ACCOUNT_ID][REGION]
        got: list[Any] = []
        wait_seconds = 20
        waiting = threading.Thread(target=lambda: got.extend(backend.receive_message("quiet", 10, wait_seconds, 30)))
        began = time.monotonic()
        waiting.start()
        time.sleep(0.3)
        sqs.send_message(QueueUrl=url, MessageBody="hello")  # would block behind the wait if it held the lock
        waiting.join()
    assert [message.body for message in got] == ["hello"]  # a send blocked behind the wait would find it gone
    assert time.monotonic() - began < wait_seconds / 2  # it woke on the send, not at the end of its wait


def _clock_reads(call: Callable[[], Any]) -> int:
    """How many times `call` asks a message of the queue whether it is visible or delayed (a clock reading each)."""
    from moto.sqs.models import Message

    reads = [0]
    with pytest.MonkeyPatch.context() as patch:
        for name in ("visible", "delayed"):
            original = getattr(Message, name)

            def counted(message: Any, original: property = original) -> bool:
                reads[0] += 1
                return bool(original.fget(message))  # type: ignore[misc]

            patch.setattr(Message, name, property(counted))
        call()
    return reads[0]


def _clock_reads_per_send(sqs: Any, url: str) -> int:
    return _clock_reads(lambda: sqs.send_message(QueueUrl=url, MessageBody="one more"))


def test_a_receive_reads_the_clock_once_not_per_message_in_flight(hooked):
    # Unpatched, receiving the one visible message among 200 in flight read the clock 205 times.
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = _queue_of(sqs, "gathering", 200)
        taken = []
        while len(taken) < 200:  # all in flight, as a batching window's poller holds them
            taken += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        sqs.send_message(QueueUrl=url, MessageBody="now")
        received: list[Any] = []

        def receive() -> None:
            received.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"])

        reads = _clock_reads(receive)
        assert reads <= len(received)  # moto still checks the message it hands out; none of the 200 in flight
        assert [message["Body"] for message in received] == ["now"]  # not the delayed one, none in flight
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=taken[0]["ReceiptHandle"], VisibilityTimeout=0)
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [message["Body"] for message in again] == [taken[0]["Body"]]  # visible again: received again


def test_a_send_does_not_count_the_messages_already_queued(hooked):
    # Unpatched, moto counts the whole queue on every send (800 clock reads for these 200 messages): a queue
    # nobody drains made every send slower than the one before.
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = _queue_of(sqs, "undrained", 200)
        assert _clock_reads_per_send(sqs, url) == 0
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # GetQueueAttributes still counts, sends included.
    assert counts["ApproximateNumberOfMessages"] == "201"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == counts["ApproximateNumberOfMessagesDelayed"] == "0"


def test_content_based_deduplication_still_applies_to_sends(hooked):
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="orders.fifo", Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]  # fmt: skip
        for _ in range(2):
            sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "same", "MessageGroupId": "g"}])
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "1"
