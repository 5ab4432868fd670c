"""Version-pinned patches of moto 5.2.5's Step Functions interpreter, installed in the moto server process.

moto runs state machines with a port of LocalStack's ASL interpreter. Where it sends tasks does not fit a
local cloud whose functions and tables live outside moto, some behaviour differs from AWS, and one cost
dominates each execution:

- Where tasks go. The interpreter builds every AWS client with `boto_client_for`, which points all of
  them at moto itself. Lambda tasks must reach our Lambda Invoke API (moto's Lambda would need Docker and
  does not know our functions) and DynamoDB tasks must reach DynamoDB Local, where the stack's tables
  are; everything else (EventBridge, SQS, SNS, nested executions) stays in moto. A new boto3 client costs
  tens of milliseconds, so clients are cached per (service, region) — they are thread-safe once built.
- A missed heartbeat fails the task with States.Timeout; AWS reports States.HeartbeatTimeout.
- SendTaskFailure drops the `cause` before it reaches the backend, so DescribeExecution and Catch see "".
- A callback that arrives while the task's Lambda invocation is still running (the function hands its
  token on, and the answer comes back before the invoke returns) is lost when the task has HeartbeatSeconds:
  the outcome is recorded but the heartbeat wait starts after it, never sees it, and the task ends in
  States.HeartbeatTimeout instead of the answer; an early SendTaskHeartbeat is refused as an invalid
  token. AWS accepts both as soon as the token exists: the wait now starts woken when they came first.
- StopExecution drops error and cause, and a task waiting for a callback keeps the execution RUNNING
  until its heartbeat or timeout fires, after which the execution ends FAILED. On AWS it is ABORTED at
  once: the stop now wakes the waiting tasks, and a stopped program is never turned into a failed one.
- Each execution parses its definition again with the ANTLR grammar (~6 ms of CPU for five states). The
  parsed program is a tree of declarations that keeps no per-execution state (inline Map already runs
  one parsed tree for many items at once), so one parse per definition text is kept and shared.

Each patch replaces one named function; the version assert makes an upgrade of moto fail loudly at
start-up instead of silently running unpatched code.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from typing import Any

log = logging.getLogger("infra.stepfunctions")

PINNED_MOTO = "5.2.5"
HOST = "127.0.0.1"

# Every module of the interpreter that does `from ...boto_client import boto_client_for`: the name is
# bound at import, so each module's own reference has to be replaced.
_CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.utils.boto_client",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)


class ClientRouter:
    """boto3 clients for the interpreter, each pointed at the local service that owns its resources."""

    def __init__(self, endpoints: dict[str, str], default: str) -> None:
        self.endpoints = endpoints
        self.default = default
        self._clients: dict[tuple[str, str], Any] = {}
        # boto3's default session is not thread-safe while it builds clients; executions run in threads.
        self._lock = threading.Lock()

    def endpoint_for(self, service: str) -> str:
        return self.endpoints.get(service, self.default)

    def client(self, region: str, service: str, state_credentials: Any = None) -> Any:
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._build(region, service)
                self._clients[key] = client
                log.info("Step Functions %s tasks go to %s", service, self.endpoint_for(service))
        return client

    def _build(self, region: str, service: str) -> Any:
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

        from infra.core.clients import local_client

        return local_client(
            service,
            self.endpoint_for(service),
            region,
            parameter_validation=False,
            # The interpreter applies Retry itself; a hidden SDK retry would re-run a function.
            retries={"max_attempts": 0, "total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            max_pool_connections=64,  # one keep-alive connection per concurrently running task
        )


def _router_from_environment() -> ClientRouter:
    moto = f"http://{HOST}:{os.environ['MOTO_PORT']}"
    endpoints = {}
    if os.environ.get("LOCAL_LAMBDA_ENDPOINT"):
        endpoints["lambda"] = os.environ["LOCAL_LAMBDA_ENDPOINT"]
    if os.environ.get("LOCAL_DYNAMODB_ENDPOINT"):
        endpoints["dynamodb"] = os.environ["LOCAL_DYNAMODB_ENDPOINT"]
    return ClientRouter(endpoints, moto)


def _route_clients(router: ClientRouter) -> None:
    for name in _CLIENT_USERS:
        module = importlib.import_module(name)
        assert hasattr(module, "boto_client_for"), f"{name} no longer uses boto_client_for"
        module.boto_client_for = router.client  # type: ignore[attr-defined]


def _report_heartbeat_timeouts() -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original = StateTask._from_error

    def _from_error(self: StateTask, env: Environment, ex: Exception) -> FailureEvent:
        if not isinstance(ex, HeartbeatTimeoutError):
            return original(self, env, ex)
        name = StatesErrorNameType.StatesHeartbeatTimeout.to_name()
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesHeartbeatTimeout),
            event_type=HistoryEventType.TaskTimedOut,
            event_details=EventDetails(taskTimedOutEventDetails=TaskTimedOutEventDetails(error=name)),  # type: ignore[typeddict-item]
        )

    StateTask._from_error = _from_error  # type: ignore[method-assign]


def _keep_task_failure_cause() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: StepFunctionResponse) -> ActionResult:
        self.stepfunction_backend.send_task_failure(  # the parser backend's signature takes the cause
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause"),  # type: ignore[call-arg]
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]


def _accept_callbacks_before_the_wait() -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, HeartbeatEndpoint

    setup_heartbeat_endpoint = CallbackEndpoint.setup_heartbeat_endpoint
    notify_heartbeat = CallbackEndpoint.notify_heartbeat

    def setup_woken(self: CallbackEndpoint, heartbeat_seconds: int) -> HeartbeatEndpoint:
        heartbeat = setup_heartbeat_endpoint(self, heartbeat_seconds)
        # notify() stores the outcome before it looks for this endpoint and this looks for the outcome
        # after storing the endpoint, so at least one of the two wakes the wait; waking it twice is harmless.
        if self.get_outcome() is not None or getattr(self, "_heartbeat_before_wait", False):
            heartbeat.notify()  # type: ignore[no-untyped-call]
        return heartbeat

    def accept_heartbeat(self: CallbackEndpoint) -> bool:
        if self._heartbeat_endpoint is None:  # the wait has not started (or the task has no heartbeat)
            self._heartbeat_before_wait = True  # type: ignore[attr-defined]
            return True
        return bool(notify_heartbeat(self))

    CallbackEndpoint.setup_heartbeat_endpoint = setup_woken  # type: ignore[method-assign]
    CallbackEndpoint.notify_heartbeat = accept_heartbeat  # type: ignore[method-assign]


def _abort_on_stop() -> None:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.responses import StepFunctionResponse

    set_error = Environment.set_error

    def keep_stopped(self: Environment, error: ExecutionFailedEventDetails) -> None:
        # The woken task fails on its way out; that must not turn ABORTED into FAILED.
        if not isinstance(self._program_state, ProgramStopped):
            set_error(self, error)

    def stop_execution(self: StepFunctionResponse) -> ActionResult:
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        stop_date = utcnow()
        worker = getattr(execution, "exec_worker", None)
        if worker is None or worker.env is None:  # not run by the interpreter: moto's own stop
            execution = self.stepfunction_backend.stop_execution(self._get_param("executionArn"))
            return ActionResult({"stopDate": execution.stop_date})
        execution.stop(stop_date=stop_date, error=self._get_param("error"), cause=self._get_param("cause"))
        for endpoint in list(worker.env.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()  # waiting for a task token or a heartbeat: give up now
        return ActionResult({"stopDate": stop_date})

    Environment.set_error = keep_stopped  # type: ignore[method-assign]
    StepFunctionResponse.stop_execution = stop_execution  # type: ignore[method-assign]


def _parse_each_definition_once() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def _get_evaluation_entrypoint(self: ExecutionWorker) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        program = parsed.get(definition)
        if program is None:
            program = AmazonStateLanguageParser.parse(definition)[0]
            with lock:
                if len(parsed) >= 256:  # definitions only change on UpdateStateMachine; bound it anyway
                    parsed.clear()
                parsed[definition] = program
        return program

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]


def install() -> None:
    import moto

    assert moto.__version__ == PINNED_MOTO, (
        f"infra/stepfunctions/hooks.py patches moto {PINNED_MOTO}'s Step Functions interpreter, but moto "
        f"{moto.__version__} is installed: pin moto[server]=={PINNED_MOTO} or re-check each patch"
    )
    router = _router_from_environment()
    _route_clients(router)
    _report_heartbeat_timeouts()
    _keep_task_failure_cause()
    _accept_callbacks_before_the_wait()
    _parse_each_definition_once()
    _abort_on_stop()
    log.info("Step Functions hooks installed (lambda → %s, dynamodb → %s, others → %s)",
             router.endpoint_for("lambda"), router.endpoint_for("dynamodb"), router.default)
