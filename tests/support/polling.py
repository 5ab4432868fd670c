"""Waiting for something the system does in the background."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | None], timeout: float = 20, interval: float = 0.1, message: str = "the condition"
) -> T:
    """What `probe` returns once it returns something truthy, asking every `interval` s up to `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {message}")
        time.sleep(interval)
