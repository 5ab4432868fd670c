"""Shared pieces of the infra tests: fixture functions as FunctionSpecs, and an event loop in a thread.

The loop thread lets a test drive async code (a FunctionRuntime, uvicorn serving an ASGI app) while the
test itself speaks plain HTTP with httpx or boto3 from the main thread, as real clients do.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from infra.awslambda.models import FunctionSpec
from infra.core import processes
from infra.core.aws import ACCOUNT_ID, REGION, Endpoints

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"
T = TypeVar("T")

ENDPOINTS = Endpoints(
    dynamodb="http://127.0.0.1:9",  # nothing listens there: these tests never reach AWS services
    moto="http://127.0.0.1:9",
    lambda_api="http://127.0.0.1:9",
    api="http://127.0.0.1:9",
)


def function_spec(fixture: str, *, name: str | None = None, **overrides: Any) -> FunctionSpec:
    name = name or fixture
    values: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
        "handler": "app.lambda_handler",
        "code_dir": FIXTURES / fixture,
        "layer_dirs": (),
        "runtime": "python3.11",
        "environment": {"FIXTURE": fixture},
        "timeout_seconds": 3,
        "memory_mb": 128,
    }
    values.update(overrides)
    return FunctionSpec(**values)


class LoopThread:
    """An asyncio loop running in a daemon thread, like the local cloud's own loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-loop", daemon=True)
        self._thread.start()
        self._servers: list[tuple[uvicorn.Server, Future[None]]] = []

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], T]) -> T:
        async def call() -> T:
            return function()

        return self.run(call())

    def serve(self, app: Any) -> str:
        """Serve an ASGI app with uvicorn as the local cloud does; returns its base URL."""
        port = processes.free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, loop="none", http="httptools", lifespan="off",
            log_level="warning", access_log=False,
        )  # fmt: skip
        server = uvicorn.Server(config)  # not in the main thread, so it leaves signal handling alone
        done = asyncio.run_coroutine_threadsafe(server.serve(), self.loop)
        self._servers.append((server, done))

        async def started() -> None:
            while not server.started:
                if done.done():
                    done.result()
                await asyncio.sleep(0.01)

        self.run(started(), timeout=10)
        return f"http://127.0.0.1:{port}"

    def close(self) -> None:
        for server, done in self._servers:
            server.should_exit = True
            done.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture(scope="session")
def make_spec() -> Callable[..., FunctionSpec]:
    return function_spec


@pytest.fixture(scope="session")
def endpoints() -> Endpoints:
    return ENDPOINTS
