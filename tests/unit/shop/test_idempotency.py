"""shop.idempotency.Once against moto's DynamoDB: the action runs once per key, a repeat answers the first
result, another payload under the same key or a repeat while the first still runs is refused."""

from __future__ import annotations

import pytest

from shop.errors import IdempotencyKeyReusedError, RequestInProgressError
from shop.idempotency import Once, forget_wiring
from shop.validation import ViewModel


class Answer(ViewModel):
    answer_id: str


@pytest.fixture
def once(tables):
    forget_wiring()
    yield Once(key_prefix="unit.answer", key_jmespath="[userId, key]", payload_jmespath="body", output=Answer)
    forget_wiring()


def test_runs_once_per_key_and_answers_the_first_result(once, tables, lambda_context):
    runs: list[str] = []

    def act(answer: str):
        return lambda: runs.append(answer) or Answer(answer_id=answer)

    first = once.run({"userId": "u1", "key": "k", "body": {"n": 1}}, act("first"), lambda_context=lambda_context)
    again = once.run({"userId": "u1", "key": "k", "body": {"n": 1}}, act("second"))
    other_user = once.run({"userId": "u2", "key": "k", "body": {"n": 1}}, act("third"))
    assert [first.answer_id, again.answer_id, other_user.answer_id] == ["first", "first", "third"]
    assert runs == ["first", "third"]
    keys = [item["id"]["S"] for item in tables.scan(TableName="Idempotency")["Items"]]
    assert len(keys) == 2 and all(key.startswith("unit.answer#") for key in keys)


def test_the_same_key_with_another_payload_is_refused(once, tables):
    once.run({"userId": "u1", "key": "k", "body": {"n": 1}}, lambda: Answer(answer_id="a"))
    with pytest.raises(IdempotencyKeyReusedError):
        once.run({"userId": "u1", "key": "k", "body": {"n": 2}}, lambda: Answer(answer_id="b"))


def test_a_repeat_while_the_first_runs_is_refused_and_a_failure_frees_the_key(once, tables):
    data = {"userId": "u1", "key": "k", "body": {}}
    seen: list[Exception] = []

    def first() -> Answer:
        with pytest.raises(RequestInProgressError) as repeat:
            once.run(data, lambda: Answer(answer_id="repeat"))
        seen.append(repeat.value)
        raise RuntimeError("transient")

    with pytest.raises(RuntimeError):
        once.run(data, first)
    assert len(seen) == 1
    assert once.run(data, lambda: Answer(answer_id="retry")) == Answer(answer_id="retry")


def test_seen_tells_whether_the_key_has_a_record(once, tables):
    data = {"userId": "u1", "key": "k", "body": {"n": 1}}
    assert not once.seen(data)
    with pytest.raises(RuntimeError):  # a failure frees the key: still nothing seen
        once.run(data, lambda: (_ for _ in ()).throw(RuntimeError("transient")))
    assert not once.seen(data)
    once.run(data, lambda: Answer(answer_id="a"))
    assert once.seen(data)
    assert once.seen({**data, "body": {"n": 2}})  # another payload under the key: run() refuses it
    assert not once.seen({**data, "userId": "u2"})


def test_the_persistence_layer_uses_the_shops_dynamodb_client(once):
    """Not a boto3 session of its own, which would load the DynamoDB service model again on a cold start."""
    from shop import aws
    from shop.idempotency import _store

    assert _store(once).client is aws.dynamodb()
