"""A version-pinned fix of moto 5.2.5's SQS backend, installed in the moto server process.

`SQSBackend.receive_message` asks `is_message_valid_based_on_retention_period(queue_name, message)` of
every message it returns, and moto answers that with `get_queue_attributes(queue_name,
["MessageRetentionPeriod"])`, which builds all of the queue's attributes first, several of them counting
over every message in the queue (ApproximateNumberOfMessages, ...Delayed, ...NotVisible). So one receive
costs O(n^2) in the queue's size, and a queue nobody drains (template.yaml's InspectionQueue, a DLQ) makes
moto slower with every message: profiled at ~70 % of a core late in a test session. The replacement
reads the queue's `message_retention_period` directly, which is the value get_queue_attributes returns
for that name, and compares it the same way.

The version assert makes an upgrade of moto fail loudly at start-up instead of silently running
unpatched code; infra.moto_server installs it.
"""

from __future__ import annotations

from typing import Any

PINNED_MOTO = "5.2.5"


def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    """moto's method without get_queue_attributes: the retention period read from the queue itself."""
    from moto.core.utils import unix_time

    retention_period = self.get_queue(queue_name).message_retention_period
    retain_until = retention_period + message.sent_timestamp / 1000
    return bool(retain_until > unix_time())


def install() -> None:
    import moto
    from moto.sqs.models import SQSBackend

    assert moto.__version__ == PINNED_MOTO, (
        f"infra/sqs/moto_hooks.py patches moto {PINNED_MOTO}'s SQS backend, but moto {moto.__version__} is "
        f"installed: pin moto[server]=={PINNED_MOTO} or re-check the patch"
    )
    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )
