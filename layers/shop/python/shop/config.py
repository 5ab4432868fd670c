"""Every environment variable the shop reads, in one place.

template.yaml sets these per function (Globals for the tables, the function's own Environment for the
rest). AWS endpoints and credentials are not here on purpose: boto3 and pynamodb resolve them the standard
way (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>, ...), which is what points them at the local cloud.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache


class ConfigurationError(RuntimeError):
    """The function's environment lacks a variable it needs (a deployment bug, never a client error)."""


@dataclass(frozen=True)
class Settings:
    items_table: str
    inventory_table: str
    idempotency_table: str
    idempotency_ttl_seconds: int
    # Only the users function is given the user pool.
    user_pool_id: str | None
    user_pool_client_id: str | None


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read the settings from an environment mapping; raises ConfigurationError naming what is missing."""
    required = ("ITEMS_TABLE", "INVENTORY_TABLE", "IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS")
    missing = [name for name in required if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
    ttl = environ["IDEMPOTENCY_TTL_SECONDS"]
    if not ttl.isdigit() or int(ttl) == 0:
        raise ConfigurationError(f"IDEMPOTENCY_TTL_SECONDS must be a positive integer, got {ttl!r}")
    return Settings(
        items_table=environ["ITEMS_TABLE"],
        inventory_table=environ["INVENTORY_TABLE"],
        idempotency_table=environ["IDEMPOTENCY_TABLE"],
        idempotency_ttl_seconds=int(ttl),
        user_pool_id=environ.get("USER_POOL_ID") or None,
        user_pool_client_id=environ.get("USER_POOL_CLIENT_ID") or None,
    )


@cache
def settings() -> Settings:
    """The settings of this process, read once (tests that change the environment call cache_clear())."""
    return load_settings(os.environ)
