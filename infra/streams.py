"""Placeholder: filled in by the event-sources work (issue 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.components import Component, ComponentContext


def components(context: ComponentContext) -> list[Component]:
    return []
