"""A callback that reaches moto's interpreter before its heartbeat wait starts (infra.stepfunctions.hooks).

The order a fast callback produces: the task's function hands its token on and the answer (or a heartbeat)
arrives while the Lambda invoke is still running, so before the interpreter sets up the heartbeat wait.
"""

from __future__ import annotations

import pytest
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    CallbackOutcomeFailure,
    CallbackPoolManager,
)

from infra.stepfunctions import hooks

HEARTBEAT_SECONDS = 3  # unpatched, the wait below runs this long and reports no heartbeat


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> CallbackPoolManager:
    for name in ("setup_heartbeat_endpoint", "notify_heartbeat"):  # restored after the test
        monkeypatch.setattr(CallbackEndpoint, name, getattr(CallbackEndpoint, name))
    hooks._accept_callbacks_before_the_wait()
    return CallbackPoolManager(activity_store={})


def test_an_answer_before_the_wait_ends_the_wait_at_once(pool: CallbackPoolManager) -> None:
    endpoint = pool.add("token-1")
    answer = CallbackOutcomeFailure("token-1", error="Declined", cause="card expired")
    assert pool.notify("token-1", answer)

    heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=HEARTBEAT_SECONDS)

    assert heartbeat.clear_and_wait() is True
    assert endpoint.get_outcome() is answer


def test_a_heartbeat_before_the_wait_is_accepted_and_counts(pool: CallbackPoolManager) -> None:
    endpoint = pool.add("token-2")
    assert pool.heartbeat("token-2") is True  # moto refused it: the caller got InvalidToken

    heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=HEARTBEAT_SECONDS)

    assert heartbeat.clear_and_wait() is True
    assert endpoint.get_outcome() is None  # still waiting for the answer itself


def test_without_an_early_callback_the_wait_still_times_out(pool: CallbackPoolManager) -> None:
    endpoint = pool.add("token-3")
    heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=0.05)  # type: ignore[arg-type]
    assert heartbeat.clear_and_wait() is False
