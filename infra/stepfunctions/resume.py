"""Step Functions executions across a restart of a persisted cloud (`python -m infra run --persist DIR`).

An execution in moto is a thread walking the parsed state machine, which no snapshot can hold. So a
snapshot keeps each execution's record and its history (`frozen_worker`), and a restored execution that was
RUNNING is resumed (`resume_running`): a new interpreter run of the same definition that starts at the
state the execution was in (the last state entered and not exited), with that state's input, its earlier
history kept and new events numbered after it. Finished executions keep their history and never run again.

What this means for the state it was in: a Task runs again from its start, as Lambda's own retries run a
function again (the saga's steps are idempotent for that reason; a waitForTaskToken task hands its function
a new token, which the function parks again); a Wait state waits only for what was left of its time (Seconds
and SecondsPath are turned into the Timestamp the wait was due). A Parallel or Map state in progress runs
again as a whole. Timeouts (TimeoutSeconds, TimeoutSecondsPath) start again with the resumed state.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger("infra.stepfunctions")


class FrozenHistory:
    """What a restored execution's worker answers GetExecutionHistory with (moto reads `env.event_manager`)."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def get_event_history(self) -> list[dict[str, Any]]:
        return list(self.events)


class FrozenWorker:
    """A snapshot's stand-in for an execution's worker thread: its history, and nothing that runs."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.event_manager = FrozenHistory(events)
        self.env = self  # moto reads worker.env.event_manager

    def stop(self, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
        return None


def frozen_worker(events: list[dict[str, Any]]) -> FrozenWorker:
    return FrozenWorker(events)


def history_of(worker: Any) -> list[dict[str, Any]]:
    """A copy of a live or frozen worker's history events."""
    env = getattr(worker, "env", None)
    manager = getattr(env, "event_manager", None)
    if manager is None:
        return []
    if isinstance(manager, FrozenHistory):
        return list(manager.events)
    with manager._mutex:
        return copy.deepcopy(list(manager._history_event_list))


def resume_point(events: list[dict[str, Any]], top_level: set[str]) -> tuple[str, Any, datetime.datetime] | None:
    """The top-level state the execution is in (entered, not exited), its input and when it was entered."""
    open_states: dict[str, tuple[Any, datetime.datetime]] = {}
    for event in events:
        entered, exited = event.get("stateEnteredEventDetails"), event.get("stateExitedEventDetails")
        if entered and entered.get("name") in top_level:
            raw = entered.get("input")
            open_states[entered["name"]] = (json.loads(raw) if isinstance(raw, str) else raw, event["timestamp"])
        elif exited and exited.get("name") in open_states:
            del open_states[exited["name"]]
    if not open_states:
        return None
    name = list(open_states)[-1]
    state_input, when = open_states[name]
    return name, state_input, when


def _path_value(document: Any, path: str) -> Any:
    """A reference path such as $.a.b (what SecondsPath takes)."""
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            value = value[part]
    return value


def resumed_definition(definition: str, state_name: str, state_input: Any, entered: datetime.datetime) -> str:
    """The definition starting at state_name; a Wait there is due when it was due before the restart."""
    document = json.loads(definition)
    document["StartAt"] = state_name
    state = document["States"][state_name]
    if state.get("Type") == "Wait" and ("Seconds" in state or "SecondsPath" in state):
        seconds = state.pop("Seconds", None)
        path = state.pop("SecondsPath", None)
        if seconds is None:
            seconds = _path_value(state_input, str(path))
        due = entered + datetime.timedelta(seconds=float(seconds))
        state["Timestamp"] = due.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(document)


def resume_running(backends: list[Any]) -> int:
    """Start every RUNNING execution of these Step Functions backends again where it was; returns how many."""
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventIdGenerator
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.utils import TMP_THREADS

    class ResumedWorker(ExecutionWorker):
        def __init__(self, *args: Any, earlier: list[dict[str, Any]], definition: str, state_input: Any,
                     **kwargs: Any) -> None:  # fmt: skip
            super().__init__(*args, **kwargs)
            self._earlier, self._definition, self._state_input = earlier, definition, state_input

        def _get_evaluation_entrypoint(self) -> Any:
            from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

            return AmazonStateLanguageParser.parse(self._definition)[0]

        def _execution_logic(self) -> None:
            program = self._get_evaluation_entrypoint()
            self.env = env = self._get_evaluation_environment()
            manager = env.event_manager
            with manager._mutex:
                manager._history_event_list[:0] = self._earlier  # type: ignore[assignment]
                manager._event_id_gen = EventIdGenerator()  # type: ignore[no-untyped-call]
                manager._event_id_gen._next_id = len(self._earlier) + 1
            env.states.reset(self._state_input)
            program.eval(env)
            self._execution_communication.terminated()

        def start(self) -> None:
            thread = threading.Thread(target=self._execution_logic, daemon=True)
            TMP_THREADS.append(thread)
            thread.start()

    resumed = 0
    executions = [execution for backend in backends for machine in getattr(backend, "state_machines", [])
                  for execution in list(machine.executions)]  # fmt: skip
    for execution in executions:
        status = getattr(execution, "exec_status", None)
        if str(getattr(status, "value", status)) != "RUNNING" or not isinstance(execution.exec_worker, FrozenWorker):
            continue
        events = execution.exec_worker.event_manager.events
        definition = execution.state_machine.definition
        point = resume_point(events, set(json.loads(definition)["States"]))
        if point is None:
            log.warning("execution %s cannot be resumed: no state in progress", execution.exec_arn)
            continue
        name, state_input, entered = point
        original = execution._get_start_execution_worker()
        worker = ResumedWorker(
            evaluation_details=original._evaluation_details,
            exec_comm=original._execution_communication,
            cloud_watch_logging_session=original._cloud_watch_logging_session,
            activity_store=original._activity_store,
            earlier=events,
            definition=resumed_definition(definition, name, state_input, entered),
            state_input=state_input,
        )
        execution.exec_worker = worker
        worker.start()
        resumed += 1
        log.info("execution %s resumed at %s", execution.exec_arn, name)
    return resumed


def reduce_worker(obj: Any) -> Any:
    """How a snapshot pickles an execution's worker (infra.core.moto_snapshot reducers): as its history."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if isinstance(obj, ExecutionWorker | FrozenWorker):
        return frozen_worker, (history_of(obj),)
    return NotImplemented


def resume_when_lambda_answers() -> None:
    """Resume running executions once the cloud's Lambda API answers (their tasks call it)."""
    from moto.stepfunctions.models import stepfunctions_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    url = os.environ.get("LOCAL_LAMBDA_ENDPOINT")
    while url:
        try:
            with urllib.request.urlopen(f"{url}/2015-03-31/functions/", timeout=1):  # noqa: S310 - loopback
                break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            time.sleep(0.05)
    backend_dicts: tuple[Any, ...] = (stepfunctions_backends, stepfunctions_parser_backends)
    backends: list[Any] = [
        backend for backend_dict in backend_dicts
        for regions in list(backend_dict.values()) for backend in list(regions.values())
    ]  # fmt: skip
    resumed = resume_running(backends)
    if resumed:
        log.info("%d running execution(s) resumed", resumed)
