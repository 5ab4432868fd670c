"""EventBridge rules and schedules of the template, delivered to their targets.

How events get from moto to the rules: PutEvents goes to moto's EventBridge (the SDK endpoint every
function and test uses). For each bus that has rules, start() creates in moto one catch-all rule named
`_local-router` whose only target is an internal SQS queue `_local-eventbridge-<bus>`; a QueuePoller
(infra.core.poller) long-polls that queue (moto wakes it as soon as a message arrives) and matches each
event against the template's rules with infra.events.patterns (moto's own matcher misses operators, see
there). Each matching rule's targets then get the event through infra.events.targets. The template's
rules are also registered in moto without targets, so `aws events list-rules` shows them.

Every event routed is recorded, matched or not, in the cloud's EventLog (infra.events.log), which the
gateway serves at GET /_local/events.

Schedules (ScheduleExpression) fire from an asyncio task per rule, on a clock that runs
LOCAL_SCHEDULE_RATE_DIVISOR times faster than real time (default 1; see infra.events.schedules).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.core.aws import ACCOUNT_ID
from infra.core.poller import INTERNAL_POLL_SECONDS, QueuePoller
from infra.events import patterns, schedules
from infra.events.models import EventRuleSpec
from infra.events.targets import AwsClients, TargetDelivery

if TYPE_CHECKING:
    from infra.awslambda.workers import FunctionRuntime
    from infra.core.aws import Endpoints
    from infra.core.components import Component
    from infra.events.log import EventLog

log = logging.getLogger("infra.events")

ROUTER_RULE = "_local-router"
ROUTER_QUEUE_PREFIX = "_local-eventbridge-"
ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def components(
    rules: list[EventRuleSpec], runtime: FunctionRuntime, endpoints: Endpoints, event_log: EventLog
) -> list[Component]:
    """The router of the stack's enabled rules; every event it routes is recorded in `event_log`."""
    rules = [rule for rule in rules if rule.properties.get("State", "ENABLED") != "DISABLED"]
    if not rules:
        return []
    return [EventBridge(runtime, endpoints, rules, event_log)]


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(message: dict[str, Any]) -> dict[str, Any]:
    """The event as targets see it: moto's message without its private fields, time as ISO 8601."""
    event = {key: message.get(key) for key in ENVELOPE_KEYS}
    event["version"] = "0"
    event["account"] = event["account"] or ACCOUNT_ID
    if isinstance(event["time"], int | float):
        event["time"] = iso_time(datetime.fromtimestamp(event["time"], UTC))
    return event


class EventBridge:
    name = "eventbridge"

    def __init__(
        self, runtime: FunctionRuntime, endpoints: Endpoints, rules: list[EventRuleSpec], event_log: EventLog
    ) -> None:
        self.runtime = runtime
        self.endpoints = endpoints
        self.event_log = event_log
        self.pattern_rules: dict[str, list[tuple[EventRuleSpec, dict[str, Any]]]] = {}
        self.schedule_rules: list[tuple[EventRuleSpec, schedules.Schedule]] = []
        self._rules = rules
        self._pollers: list[QueuePoller] = []
        self._send_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="eventbridge-send")
        self._delivery: TargetDelivery | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        created = schedules.utc_now()
        for rule in self._rules:
            try:
                if "EventPattern" in rule.properties:
                    pattern = patterns.load(rule.properties["EventPattern"])
                    self.pattern_rules.setdefault(rule.bus_name, []).append((rule, pattern))
                if "ScheduleExpression" in rule.properties:
                    schedule = schedules.parse(str(rule.properties["ScheduleExpression"]), created)
                    self.schedule_rules.append((rule, schedule))
            except (patterns.PatternError, schedules.ScheduleError, ValueError) as error:
                log.error("rule %s is not active: %s", rule.name, error)
        loop = asyncio.get_running_loop()
        clients = await loop.run_in_executor(self._send_executor, AwsClients.create, self.endpoints)
        self._delivery = TargetDelivery(self.runtime, clients, self._send_executor)
        await loop.run_in_executor(self._send_executor, self._register_rules, clients)
        buses = sorted(self.pattern_rules)
        for bus in buses:
            queue_url = await loop.run_in_executor(self._send_executor, self._create_router, clients, bus)
            # A poller (and a thread) per bus for the blocking long polls: they never starve the loop's pool.
            poller = QueuePoller(
                f"eventbridge bus {bus}", functools.partial(self._route_messages, bus), log=log,
                receive_options={"VisibilityTimeout": 30}, thread_name="eventbridge-poll",
                wait_seconds=INTERNAL_POLL_SECONDS,
            )  # fmt: skip
            poller.start(clients.sqs, queue_url)
            self._pollers.append(poller)
        divisor = schedules.rate_divisor()
        for rule, schedule in self.schedule_rules:
            self._spawn(self._run_schedule(rule, schedule, divisor))
        log.info(
            "eventbridge: %d rule(s) on %s, %d schedule(s)%s",
            sum(len(rules) for rules in self.pattern_rules.values()), ", ".join(buses) or "no bus",
            len(self.schedule_rules), f" (clock x{divisor:g})" if divisor != 1 else "",
        )  # fmt: skip

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*(poller.stop() for poller in self._pollers))
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._send_executor.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- moto set-up (blocking, in threads)

    def _register_rules(self, clients: AwsClients) -> None:
        for rule in self._rules:
            request: dict[str, Any] = {"Name": rule.name, "EventBusName": rule.bus_name, "State": "ENABLED"}
            if "EventPattern" in rule.properties:
                pattern = rule.properties["EventPattern"]
                request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
            if "ScheduleExpression" in rule.properties:
                request["ScheduleExpression"] = str(rule.properties["ScheduleExpression"])
            try:
                clients.events.put_rule(**request)
            except (ClientError, BotoCoreError) as error:  # visibility only: routing does not depend on it
                log.debug("rule %s not registered in moto: %s", rule.name, error)

    def _create_router(self, clients: AwsClients, bus: str) -> str:
        queue_url = str(clients.sqs.create_queue(QueueName=f"{ROUTER_QUEUE_PREFIX}{bus}")["QueueUrl"])
        queue_arn = f"arn:aws:sqs:{self.endpoints.region}:{ACCOUNT_ID}:{ROUTER_QUEUE_PREFIX}{bus}"
        # Every event on the bus carries this account, so moto's matcher passes them all.
        clients.events.put_rule(Name=ROUTER_RULE, EventBusName=bus, EventPattern=json.dumps({"account": [ACCOUNT_ID]}))
        # The whole event as moto built it (moto's default input drops `account`).
        whole_event = {"InputPathsMap": {}, "InputTemplate": "<aws.events.event.json>"}
        clients.events.put_targets(
            Rule=ROUTER_RULE, EventBusName=bus,
            Targets=[{"Id": "router", "Arn": queue_arn, "InputTransformer": whole_event}],
        )  # fmt: skip
        return queue_url

    # ---------------------------------------------------------------- routing

    async def _route_messages(self, bus: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A batch from the bus's router queue: each event routed, then all deleted (routing cannot fail)."""
        for message in messages:
            try:
                self.route(bus, envelope(json.loads(message["Body"])))
            except (ValueError, TypeError) as error:
                log.error("eventbridge: unreadable event on bus %s: %s", bus, error)
        return messages

    def route(self, bus: str, event: dict[str, Any]) -> int:
        """Record `event` in the event log, then start delivering it to the targets of every matching rule on
        `bus`; returns the rule count."""
        assert self._delivery is not None
        self.event_log.append(bus, event)
        matched = 0
        for rule, pattern in self.pattern_rules.get(bus, []):
            if patterns.matches(pattern, event):
                matched += 1
                for target in rule.properties.get("Targets", []):
                    self._spawn(self._delivery.deliver(rule, target, event))
        log.debug("eventbridge: %s/%s on %s matched %d rule(s)", event.get("source"), event.get("detail-type"),
                  bus, matched)  # fmt: skip
        return matched

    # ---------------------------------------------------------------- schedules

    async def _run_schedule(self, rule: EventRuleSpec, schedule: schedules.Schedule, divisor: float) -> None:
        assert self._delivery is not None
        real_start, clock_start = time.monotonic(), schedules.utc_now()

        def clock() -> datetime:
            return clock_start + timedelta(seconds=(time.monotonic() - real_start) * divisor)

        while not self._stopping:
            now = clock()
            fire_at = schedule.next_after(now)
            if fire_at is None:
                log.warning("schedule %s (%s) never fires again", rule.name, schedule.expression)
                return
            await asyncio.sleep(max((fire_at - now).total_seconds() / divisor, 0.0))
            event = {
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": ACCOUNT_ID, "time": iso_time(fire_at), "region": self.endpoints.region,
                "resources": [rule.arn], "detail": {},
            }  # fmt: skip
            log.debug("schedule %s (%s) fired for %s", rule.name, schedule.expression, event["time"])
            for target in rule.properties.get("Targets", []):
                self._spawn(self._delivery.deliver(rule, target, event))
