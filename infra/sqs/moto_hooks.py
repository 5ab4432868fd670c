"""A version-pinned fix of moto 5.2.5's SQS backend, installed in the moto server process.

`SQSBackend.receive_message` asks `is_message_valid_based_on_retention_period(queue_name, message)` of
every message it returns, and moto answers that with `get_queue_attributes(queue_name,
["MessageRetentionPeriod"])`, which builds all of the queue's attributes first, several of them counting
over every message in the queue (ApproximateNumberOfMessages, ...Delayed, ...NotVisible). So one receive
costs O(n^2) in the queue's size, and a queue nobody drains (template.yaml's InspectionQueue, a DLQ) makes
moto slower with every message: profiled at ~70 % of a core late in a test session. The replacement
reads the queue's `message_retention_period` directly, which is the value get_queue_attributes returns
for that name, and compares it the same way.

Second, moto's SQS backend takes no lock, and its server answers requests on many threads: two receives
running at once (two pollers of one event source mapping) could both pick a message before either marked
it in flight, so it was delivered twice; a delete rebuilding the message list could drop a message sent at
that moment; and a receive iterating the in-flight set while another changed it raised "Set changed size
during iteration" (a 500). Each queue's own condition lock (`_messages_lock`, re-entrant, which moto already
takes to append a message) now also covers a receive's pass over the messages, a delete, a visibility
change and a purge. A long poll waits outside the lock (on that condition, as moto's own loop does), so
receivers never queue behind one another's waits.

Third, every SendMessage reads `queue.attributes` for one flag (ContentBasedDeduplication), and building
that dict counts the queue's messages three times over, checking each message's clock: a send cost 0.3 ms
to an empty queue and 18 ms to one holding 1,000 messages. The InspectionQueue keeps every event for a day
and nobody drains it, so every event published made the next one slower, for as long as the cloud ran. A
send (single or batch) now skips those counts (they read 0 for the duration of the send, on that thread
only); GetQueueAttributes still counts.

Fourth, `Queue.messages` (what a receive picks from, and what the counts count) asks every message in the
queue whether it is visible and not delayed, and each answer reads the clock twice (a datetime built and
converted per message): a receive from a queue holding 1,000 messages in flight (a batching window's
gathering, a slow consumer) read the clock 2,000 times to find none. The list is now taken against one
reading of the clock, with the same comparisons.

The version assert makes an upgrade of moto fail loudly at start-up instead of silently running
unpatched code; infra.moto_server installs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

PINNED_MOTO = "5.2.5"


def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    """moto's method without get_queue_attributes: the retention period read from the queue itself."""
    from moto.core.utils import unix_time

    retention_period = self.get_queue(queue_name).message_retention_period
    retain_until = retention_period + message.sent_timestamp / 1000
    return bool(retain_until > unix_time())


def _locked_receive(original: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    def receive_message(  # noqa: PLR0917 - moto's own signature, called positionally
        self: Any, queue_name: str, count: int, wait_seconds_timeout: int, visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:  # fmt: skip
        from moto.core.utils import unix_time

        queue = self.get_queue(queue_name)
        deadline = unix_time() + (wait_seconds_timeout or 0)
        while True:
            with queue._messages_lock:  # one pass over the messages, never two at once
                result = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            remaining = deadline - unix_time()
            if result or remaining <= 0:
                return result
            queue.wait_for_messages(min(1.0, remaining))  # outside the lock: a send wakes it

    return receive_message


def _locked(original: Callable[..., Any], queue_of: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        with queue_of(self, *args, **kwargs)._messages_lock:
            return original(self, *args, **kwargs)

    return method


_SENDING = threading.local()
# Queue's properties that count over every message: what a send never reads, yet pays for.
MESSAGE_COUNTS = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
                  "approximate_number_of_messages_not_visible")  # fmt: skip


def _without_counts(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = getattr(_SENDING, "active", False)  # a batch send calls send_message: restore, not clear
        _SENDING.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _SENDING.active = before

    return method


def _count_unless_sending(original: property) -> property:
    def count(queue: Any) -> int:
        return 0 if getattr(_SENDING, "active", False) else int(original.fget(queue))  # type: ignore[misc]

    return property(count)


def _messages_now(queue: Any) -> list[Any]:
    """moto's Queue.messages with one clock reading for the whole pass (Message.visible / .delayed each read it)."""
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return [message for message in queue._messages if now > message.visible_at and not now < message.delayed_until]


_ORIGINALS: dict[str, Any] = {}


def install() -> None:
    """Patch the SQS backend; installing again re-wraps moto's own methods, never a patched one."""
    import moto
    from moto.sqs.models import Queue, SQSBackend

    assert moto.__version__ == PINNED_MOTO, (
        f"infra/sqs/moto_hooks.py patches moto {PINNED_MOTO}'s SQS backend, but moto {moto.__version__} is "
        f"installed: pin moto[server]=={PINNED_MOTO} or re-check the patch"
    )
    if not _ORIGINALS:
        _ORIGINALS.update(
            receive=SQSBackend.receive_message, visibility=SQSBackend.change_message_visibility,
            purge=SQSBackend.purge_queue, delete=Queue.delete_message, send=SQSBackend.send_message,
            send_batch=SQSBackend.send_message_batch,
            **{name: getattr(Queue, name) for name in MESSAGE_COUNTS},
        )  # fmt: skip

    def backend_queue(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        return backend.get_queue(queue_name)

    def same_queue(queue: Any, *args: Any, **kwargs: Any) -> Any:
        return queue

    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )
    SQSBackend.receive_message = _locked_receive(_ORIGINALS["receive"])  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = _locked(_ORIGINALS["visibility"], backend_queue)  # type: ignore[method-assign]
    SQSBackend.purge_queue = _locked(_ORIGINALS["purge"], backend_queue)  # type: ignore[method-assign]
    Queue.delete_message = _locked(_ORIGINALS["delete"], same_queue)  # type: ignore[method-assign]
    SQSBackend.send_message = _without_counts(_ORIGINALS["send"])  # type: ignore[method-assign]
    SQSBackend.send_message_batch = _without_counts(_ORIGINALS["send_batch"])  # type: ignore[method-assign]
    for name in MESSAGE_COUNTS:
        setattr(Queue, name, _count_unless_sending(_ORIGINALS[name]))
    Queue.messages = property(_messages_now)  # type: ignore[method-assign,assignment]
