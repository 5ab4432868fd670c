"""The record of an EventBridge rule of the template, routed and scheduled by infra.events.bus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventRuleSpec:
    """An AWS::Events::Rule: an event pattern on a bus, or a schedule, with its targets."""

    logical_id: str
    name: str
    arn: str
    bus_name: str  # "default" for schedules and rules without EventBusName
    properties: dict[str, Any]  # resolved: EventPattern, ScheduleExpression, State, Targets[...]
