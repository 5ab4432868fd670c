"""Fault injection on a running local cloud, for tests: set a spec, read what was injected, clear it.

Each takes the `stack` fixture (tests/conftest.py), a RunningCloud (infra.launcher) or the API's base URL,
and speaks to the gateway's `/_local/faults` (infra.faults.client). The spec's grammar is in
docs/local-cloud.md ("Fault injection"); a spec the cloud refuses raises infra.faults.spec.FaultSpecError.
Faults are the whole cloud's: a test that sets them clears them (the `faults` fixtures do it in teardown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.faults import client

if TYPE_CHECKING:
    from infra.launcher import RunningCloud
    from tests.conftest import Stack


def _api(target: Stack | RunningCloud | str) -> str:
    if isinstance(target, str):
        return target
    state = getattr(target, "state", None)
    if state is not None:
        return str(state["endpoints"]["api"])
    if not getattr(target, "local", False):
        raise RuntimeError("fault injection needs the local cloud; SHOP_API_URL targets another stack")
    return str(getattr(target, "api_url"))  # noqa: B009 - Stack and RunningCloud differ here


def set_faults(target: Stack | RunningCloud | str, spec: str) -> dict[str, Any]:
    """Replace the cloud's faults with `spec` (counts start from zero); answers the cloud's description."""
    return client.set_spec(_api(target), spec)


def clear_faults(target: Stack | RunningCloud | str) -> dict[str, Any]:
    return client.clear(_api(target))


def fault_counts(target: Stack | RunningCloud | str) -> dict[str, int]:
    """How many faults of each entry (its name and scope, e.g. "dynamodb.conflict@OrdersTable") were injected
    since the spec was set."""
    return dict(client.show(_api(target))["counts"])


def current_faults(target: Stack | RunningCloud | str) -> dict[str, Any]:
    """{"spec", "entries", "counts", and while they last "killsLeft" and "outageSecondsLeft"}."""
    return client.show(_api(target))
