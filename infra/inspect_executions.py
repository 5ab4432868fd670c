"""`python -m infra executions`: Step Functions executions state by state (issue 4 builds it)."""

from __future__ import annotations

from typing import Any


def show_executions(state: dict[str, Any], *, name: str | None, limit: int) -> int:
    raise SystemExit("not built yet (issue 4)")
