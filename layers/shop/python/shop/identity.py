"""Who is calling: the signed-in user as the API Gateway JWT authorizer describes them, and what their role lets
them do.

Registration makes an account a buyer or a seller (the buyers or sellers group); an operator makes admins
(the admins group), never the API. The rules, the one place the shop layer decides them:
- buyers shop: their cart, checkout, their orders and payments (require_buyer);
- sellers sell: items, stock, images, imports, each only their own (require_seller, then ownership);
- admins have no power beyond a buyer's through the API: they shop on their own account and see only their
  own orders; an admin who is also in the sellers group sells like any seller.
A seller-only account may not shop: one account is one role, so a seller's purchases never mix with their
sales (docs/api.md, "who").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shop.errors import ForbiddenError

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

    @property
    def may_shop(self) -> bool:
        # Role rather than groups: an admin shops whether or not they also sell; a seller never does.
        return self.role != "seller"


def require_buyer(caller: Caller) -> Caller:
    """The caller, when they may shop (cart, checkout, orders, payments); 403 FORBIDDEN for a seller account."""
    if not caller.may_shop:
        raise ForbiddenError("only buyers can do this; sign in with a buyer account", details={"role": caller.role})
    return caller


def require_seller(caller: Caller, doing: str) -> Caller:
    """The caller, when they may sell; 403 FORBIDDEN naming what only sellers can do (e.g. "list items")."""
    if not caller.is_seller:
        raise ForbiddenError(f"only sellers can {doing}", details={"role": caller.role})
    return caller


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
