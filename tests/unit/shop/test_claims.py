"""Who the caller is, from the claims API Gateway's JWT authorizer passes on."""

from __future__ import annotations

import pytest

from shop.errors import ForbiddenError
from shop.identity import caller_from_claims, parse_groups, require_buyer, require_seller


@pytest.mark.parametrize(
    ("rendered", "groups"),
    [
        ("[sellers buyers]", {"sellers", "buyers"}),  # how HTTP APIs render a JWT array claim
        ("[sellers]", {"sellers"}),
        ("[]", set()),
        ("sellers", {"sellers"}),
        ('["sellers", "admins"]', {"sellers", "admins"}),
        (["sellers", "buyers"], {"sellers", "buyers"}),  # a real list, e.g. a token decoded directly
        (None, set()),
        (42, set()),
    ],
)
def test_groups_claim_is_parsed_however_it_is_rendered(rendered, groups):
    assert parse_groups(rendered) == groups


@pytest.mark.parametrize(
    ("groups", "role", "is_seller"),
    [
        ("[sellers]", "seller", True),
        ("[buyers]", "buyer", False),
        (None, "buyer", False),
        ("[admins]", "admin", False),
        ("[admins sellers]", "admin", True),
    ],
)
def test_role_follows_the_groups(groups, role, is_seller):
    claims = {"sub": "user-1", "email": "a@example.com"}
    if groups is not None:
        claims["cognito:groups"] = groups
    caller = caller_from_claims(claims)
    assert caller is not None
    assert (caller.user_id, caller.email, caller.role, caller.is_seller) == ("user-1", "a@example.com", role, is_seller)


def test_access_tokens_carry_no_email():
    caller = caller_from_claims({"sub": "user-1", "cognito:groups": "[buyers]", "token_use": "access"})
    assert caller is not None and caller.email is None


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"email": "a@example.com"}])
def test_no_subject_is_no_caller(claims):
    assert caller_from_claims(claims) is None


@pytest.mark.parametrize(
    ("groups", "may_shop", "may_sell"),
    [
        ("[buyers]", True, False),
        ("[sellers]", False, True),  # a seller account only sells
        ("[buyers sellers]", False, True),  # never made by registration; selling wins, as the role says
        ("[admins]", True, False),  # an admin shops like a buyer, on their own account
        ("[admins sellers]", True, True),
        (None, True, False),  # no group at all reads as a buyer (the role's default)
    ],
)
def test_the_guards_follow_the_role(groups, may_shop, may_sell):
    claims = {"sub": "user-1"} if groups is None else {"sub": "user-1", "cognito:groups": groups}
    caller = caller_from_claims(claims)
    assert caller is not None
    for guard, allowed in ((require_buyer, may_shop), (lambda c: require_seller(c, "list items"), may_sell)):
        if allowed:
            assert guard(caller) is caller
        else:
            with pytest.raises(ForbiddenError) as refused:
                guard(caller)
            assert refused.value.details == {"role": caller.role}
