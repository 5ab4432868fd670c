"""infra.cognito.moto_hooks: moto's Cognito requests run one at a time (its user pools are not thread-safe)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto.cognitoidp.responses import CognitoIdpResponse

from infra.cognito import moto_hooks


def test_cognito_requests_never_overlap(monkeypatch):
    inside, overlapped = [0], []
    lock = threading.Lock()

    def slow_action(self: Any) -> str:
        with lock:
            inside[0] += 1
            overlapped.append(inside[0] > 1)
        threading.Event().wait(0.005)
        with lock:
            inside[0] -= 1
        return "ok"

    monkeypatch.setattr(CognitoIdpResponse, "call_action", slow_action)
    monkeypatch.setattr(moto_hooks, "_ORIGINALS", {})
    moto_hooks.install()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: CognitoIdpResponse.call_action(object()), range(40)))  # type: ignore[arg-type]
    assert answers == ["ok"] * 40
    assert not any(overlapped)
