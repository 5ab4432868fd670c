"""`python -m infra events`: the domain events emitted, from the inspection queue (issue 4 builds it)."""

from __future__ import annotations

from typing import Any


def show_events(state: dict[str, Any], *, follow: bool, limit: int) -> int:
    raise SystemExit("not built yet (issue 4)")
