"""Who is calling: the signed-in user as the API Gateway JWT authorizer describes them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["buyer", "seller", "admin"]

SELLERS = "sellers"
BUYERS = "buyers"
ADMINS = "admins"


@dataclass(frozen=True)
class Caller:
    user_id: str  # the Cognito sub
    email: str | None  # only ID tokens carry it; access tokens do not
    groups: frozenset[str]
    role: Role

    @property
    def is_seller(self) -> bool:
        # Groups rather than role: an admin who also sells may list items.
        return SELLERS in self.groups


def caller_from_claims(claims: Mapping[str, Any]) -> Caller | None:
    """The caller described by verified JWT claims, or None when there is no subject."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        return None
    groups = parse_groups(claims.get("cognito:groups"))
    role: Role = "admin" if ADMINS in groups else "seller" if SELLERS in groups else "buyer"
    email = claims.get("email")
    return Caller(user_id=sub, email=email if isinstance(email, str) else None, groups=groups, role=role)


def parse_groups(value: Any) -> frozenset[str]:
    """Group names from the cognito:groups claim.

    API Gateway HTTP APIs turn every claim into a string and render arrays as "[sellers buyers]"; a
    real list (a JWT decoded directly, or a JSON-encoded array) is accepted too.
    """
    if value is None:
        return frozenset()
    if isinstance(value, str):
        text = value.strip()
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        value = decoded if isinstance(decoded, list) else text.strip("[]").replace(",", " ").split()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(group).strip() for group in value if str(group).strip())
    return frozenset()
