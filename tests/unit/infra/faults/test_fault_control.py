"""The cloud's side of fault injection (infra.faults.control): what it hands the workers, its own draws and
the counts. The worker side is read back through the real files, as a worker reads them."""

from __future__ import annotations

import json
import os

import pytest

from infra.faults.control import FaultControl
from infra.faults.spec import FaultSpecError, Resources
from infra.faults.worker import PROVIDER_VARIABLE, WorkerFaults

STACK = Resources(tables={"Stock": "shop-Stock"}, queues={"Jobs": "shop-Jobs"}, functions={"SagaFunction"})


@pytest.fixture
def control(tmp_path):
    return FaultControl(tmp_path / "faults", STACK, seed=7)


def test_kill_count_kills_exactly_the_next_count_invocations_of_that_function(control):
    control.set("lambda.kill=SagaFunction:2")
    assert [control.kill_next("SagaFunction") for _ in range(4)] == [True, True, False, False]
    assert control.kill_next("OtherFunction") is False
    assert control.counts() == {"lambda.kill": 2}


def test_kill_rate_kills_about_that_share(control):
    control.set("lambda.kill=SagaFunction:0.5")
    kills = sum(control.kill_next("SagaFunction") for _ in range(400))
    assert 150 < kills < 250
    assert control.counts() == {"lambda.kill": kills}


def test_chance_honours_scope_and_rate_and_counts(control):
    control.set("stream.duplicate@Stock=1,sqs.reorder=0")
    assert control.chance("stream.duplicate", "shop-Stock") is True
    assert control.chance("stream.duplicate", "shop-Other") is False
    assert control.chance("sqs.reorder", "shop-Jobs") is False
    assert control.chance("sqs.duplicate", "shop-Jobs") is False
    assert control.counts() == {"stream.duplicate@Stock": 1, "sqs.reorder": 0}


def test_an_invalid_spec_changes_nothing(control):
    control.set("sqs.reorder=1")
    with pytest.raises(FaultSpecError):
        control.set("sqs.reorder=2")
    assert str(control.spec) == "sqs.reorder=1"


def test_workers_read_the_spec_when_it_changes_and_their_counts_add_up(control, monkeypatch):
    monkeypatch.delenv(PROVIDER_VARIABLE, raising=False)
    worker = WorkerFaults(str(control.spec_file), str(control.counts_file))
    worker.refresh()
    assert worker.rules == ()
    control.set("dynamodb.conflict@Stock=0.5,provider.fail=0.05,provider.slow=0.1")
    worker.refresh()
    assert [(rule.kind, rule.rate, rule.tables) for rule in worker.rules] == [
        ("conflict", 0.5, {"Stock", "shop-Stock"})
    ]
    assert os.environ[PROVIDER_VARIABLE] == "fail=0.05,slow=0.1"
    worker.count("dynamodb.conflict@Stock")
    worker.count("dynamodb.conflict@Stock")
    assert control.counts() == {"dynamodb.conflict@Stock": 2}
    worker.count("dynamodb.conflict@Stock")
    assert control.counts() == {"dynamodb.conflict@Stock": 3}  # only what was appended since is read

    control.set("dynamodb.conflict@Stock=0.5")  # a new spec counts from zero
    with open(control.counts_file, "ab") as file:  # a worker still on the old spec writes late
        file.write(json.dumps({"g": control.generation - 1, "e": "dynamodb.conflict@Stock"}).encode() + b"\n")
    assert control.counts() == {"dynamodb.conflict@Stock": 0}
    worker.refresh()
    assert PROVIDER_VARIABLE not in os.environ

    control.clear()
    assert not control.spec_file.exists()
    worker.refresh()
    assert worker.rules == ()


def test_an_outage_starts_when_it_is_set(control):
    control.set("dynamodb.outage=2.5")
    state = json.loads(control.spec_file.read_text())
    assert state["outage"]["key"] == "dynamodb.outage"
    assert 0 < control.describe()["outageSecondsLeft"] <= 2.5


def test_a_provider_variable_of_the_function_itself_comes_back_when_faults_are_cleared(control, monkeypatch):
    monkeypatch.setenv(PROVIDER_VARIABLE, "slow=1")  # e.g. set by the template
    worker = WorkerFaults(str(control.spec_file), str(control.counts_file))
    control.set("provider.fail=1")
    worker.refresh()
    assert os.environ[PROVIDER_VARIABLE] == "fail=1"
    control.clear()
    worker.refresh()
    assert os.environ[PROVIDER_VARIABLE] == "slow=1"
