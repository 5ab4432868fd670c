"""`python -m infra events` and `python -m infra executions`: seeing what happened in a running cloud."""

from __future__ import annotations

from typing import Any


def show_events(state: dict[str, Any], *, follow: bool, limit: int) -> int:
    raise SystemExit("not built yet (issue 4)")


def show_executions(state: dict[str, Any], *, name: str | None, limit: int) -> int:
    raise SystemExit("not built yet (issue 4)")
