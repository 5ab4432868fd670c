"""The parts of the local cloud that deliver events to functions, started after provisioning.

Each module below owns one kind of event source and returns its components for a stack; the cloud starts
them all once the functions can be invoked and stops them (in reverse order) before the workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from infra.model import Endpoints
from infra.provision import LocalStack
from infra.workers import FunctionRuntime


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class ComponentContext:
    stack: LocalStack
    runtime: FunctionRuntime
    endpoints: Endpoints
    ttl_sweep_seconds: float = 1.0


def build_components(context: ComponentContext) -> list[Component]:
    from infra import eventbridge, queues, s3_notifications, streams, ttl

    components: list[Component] = []
    for module in (streams, ttl, queues, s3_notifications, eventbridge):
        components.extend(module.components(context))
    return components
