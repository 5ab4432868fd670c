"""What the local cloud starts after provisioning: the parts that deliver events to functions.

Each service package owns its kind of event source and offers a `components(...)` function that takes
exactly what it needs (its specs from the stack, the function runtime, the endpoints, ...); infra.cloud
calls them, starts the components once the functions can be invoked and stops them, in reverse order,
before the workers.
"""

from __future__ import annotations

from typing import Protocol


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
