"""The record of a state machine of the template, created in moto's Step Functions by the provisioner."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str  # created in moto's Step Functions
    definition: str  # ASL JSON with DefinitionSubstitutions applied
    type: str  # STANDARD or EXPRESS
