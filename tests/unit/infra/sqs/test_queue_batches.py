"""A batch gathered over a batching window holds each message once, with its latest receipt handle."""

from __future__ import annotations

from infra.sqs.event_source import _merge


def test_a_message_received_twice_in_one_window_is_in_the_batch_once_with_its_last_receipt() -> None:
    first = [{"MessageId": "a", "ReceiptHandle": "a1"}, {"MessageId": "b", "ReceiptHandle": "b1"}]
    again = [{"MessageId": "c", "ReceiptHandle": "c1"}, {"MessageId": "a", "ReceiptHandle": "a2"}]
    assert _merge(first, again) == [
        {"MessageId": "a", "ReceiptHandle": "a2"},
        {"MessageId": "b", "ReceiptHandle": "b1"},
        {"MessageId": "c", "ReceiptHandle": "c1"},
    ]
