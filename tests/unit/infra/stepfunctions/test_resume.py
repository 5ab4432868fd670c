"""Where a restored execution resumes (infra.stepfunctions.resume): the state it was in, with that state's input."""

from __future__ import annotations

import datetime
import json

from infra.stepfunctions.resume import resume_point, resumed_definition

ENTERED = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
DEFINITION = json.dumps(
    {
        "StartAt": "Charge",
        "States": {
            "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Next": "Hold"},
            "Hold": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Ship"},
            "Ship": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": True},
        },
    }
)


def _entered(name: str, state_input: object, when: datetime.datetime = ENTERED) -> dict[str, object]:
    return {"type": "TaskStateEntered", "timestamp": when,
            "stateEnteredEventDetails": {"name": name, "input": json.dumps(state_input)}}  # fmt: skip


def _exited(name: str) -> dict[str, object]:
    return {"type": "TaskStateExited", "timestamp": ENTERED, "stateExitedEventDetails": {"name": name}}


def test_the_execution_resumes_in_the_state_it_entered_last_and_did_not_leave() -> None:
    events = [_entered("Charge", {"n": 1}), _exited("Charge"), _entered("Hold", {"n": 2, "delay": 30})]
    assert resume_point(events, {"Charge", "Hold", "Ship"}) == ("Hold", {"n": 2, "delay": 30}, ENTERED)


def test_a_finished_history_has_nothing_to_resume_and_nested_states_do_not_count() -> None:
    events = [_entered("Charge", {}), _entered("InsideAMap", {}), _exited("Charge")]
    assert resume_point(events, {"Charge", "Hold", "Ship"}) is None


def test_a_wait_resumes_until_it_was_due_not_for_its_whole_time_again() -> None:
    resumed = json.loads(resumed_definition(DEFINITION, "Hold", {"delay": 90}, ENTERED))
    assert resumed["StartAt"] == "Hold"
    assert resumed["States"]["Hold"] == {"Type": "Wait", "Timestamp": "2026-01-02T03:05:35Z", "Next": "Ship"}
    assert json.loads(resumed_definition(DEFINITION, "Ship", {}, ENTERED))["States"]["Ship"]["Type"] == "Task"
