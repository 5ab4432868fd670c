"""The records of DynamoDB tables the local cloud acts on: those with TTL enabled (infra.dynamodb.ttl)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TtlTableSpec:
    table_name: str
    attribute: str
