"""The infra integration tests share one local cloud on tests/fixtures/templates/services.yaml (every event
source under test, each behaviour with resources of its own), whose schedule clock runs 60 times faster
than real time so that rate(1 minute) and cron(* * * * ? *) fire every second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.launcher import ROOT, RunningCloud
from tests.conftest import local_cloud

SERVICES_TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "services.yaml"


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """The infra tests' cloud (tests in this folder that test the main template use `stack` instead)."""
    cloud = local_cloud(
        tmp_path_factory, "services", template=SERVICES_TEMPLATE, environment={"LOCAL_SCHEDULE_RATE_DIVISOR": "60"}
    )
    try:
        yield cloud
    finally:
        cloud.stop()
