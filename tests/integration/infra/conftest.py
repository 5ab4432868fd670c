"""The infra integration tests share one local cloud on tests/fixtures/templates/services.yaml (every event
source under test, each behaviour with resources of its own), whose schedule clock runs 20 times faster
than real time so that rate(1 minute) and cron(* * * * ? *) fire every 3 seconds. The cloud stops as soon
as the last test of this folder has run: its schedules would otherwise keep firing through the rest of the
session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.launcher import ROOT, RunningCloud
from tests.conftest import local_cloud

SERVICES_TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "services.yaml"
HERE = Path(__file__).resolve().parent
_started: list[RunningCloud] = []


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """The infra tests' cloud (tests in this folder that test the main template use `stack` instead)."""
    started = local_cloud(
        tmp_path_factory, "services", template=SERVICES_TEMPLATE, environment={"LOCAL_SCHEDULE_RATE_DIVISOR": "20"}
    )
    _started.append(started)
    try:
        yield started
    finally:
        started.stop()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test of this folder, stop the cloud (stop() is idempotent: the fixture's own teardown
    at the end of the session finds it stopped)."""
    if nextitem is None or HERE not in nextitem.path.parents:
        while _started:
            _started.pop().stop()
