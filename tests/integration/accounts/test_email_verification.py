"""Email ownership over real HTTP: registration mails a code (through the local cloud's SES, read back from
its mailbox at GET /_local/mail), the user proves the address with it, and a stack that requires verified
sellers keeps an unverified one from listing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Stack, _local_stack, local_cloud
from tests.support.users import User, error_code, new_item, register, unique_email


def mailed_codes(api: httpx.Client, email: str) -> list[str]:
    """The verification codes mailed to `email`, oldest first (the local mailbox)."""
    mail = api.get("/_local/mail", params={"to": email})
    assert mail.status_code == 200, mail.text
    return [re.search(r"\b(\d{6})\b", message["body"]).group(1) for message in mail.json()["messages"]]  # type: ignore[union-attr]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.fixture(scope="module")
def strict_api(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[httpx.Client]:
    """A cloud of the real template with RequireVerifiedSellerEmail=true (the dev stage leaves it off)."""
    if not stack.local:
        pytest.skip("needs a second local cloud with other template parameters")
    cloud = local_cloud(tmp_path_factory, "strict", overrides=["RequireVerifiedSellerEmail=true"])
    try:
        with httpx.Client(base_url=_local_stack(cloud).api_url, timeout=30) as client:
            yield client
    finally:
        cloud.stop()


def test_registration_mails_a_code_that_verifies_the_email(api, local_only):
    email = unique_email("verify")
    user = register(api, "buyer", email=email)
    me = api.get("/me", headers=user.auth)
    assert me.status_code == 200
    assert me.json() == {"userId": user.user_id, "email": email, "name": "Test buyer", "role": "buyer",
                         "emailVerified": False, "phone": None, "defaultAddressId": None}  # fmt: skip

    (code,) = mailed_codes(api, email)
    refused = api.post("/auth/verify-email", json={"code": wrong(code)}, headers=user.auth)
    assert refused.status_code == 422 and error_code(refused) == "INVALID_VERIFICATION_CODE"
    assert api.get("/me", headers=user.auth).json()["emailVerified"] is False

    verified = api.post("/auth/verify-email", json={"code": code}, headers=user.auth)
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"emailVerified": True, "verificationCodeSentTo": None}
    assert api.get("/me", headers=user.auth).json()["emailVerified"] is True
    # A retry after the address is verified is answered, not refused; nothing more is mailed.
    assert api.post("/auth/verify-email", json={"code": code}, headers=user.auth).status_code == 200
    assert api.post("/auth/verify-email/resend", headers=user.auth).json() == {
        "emailVerified": True, "verificationCodeSentTo": None
    }  # fmt: skip
    assert len(mailed_codes(api, email)) == 1


def test_a_resent_code_replaces_the_first(api, local_only):
    email = unique_email("resend")
    user = register(api, "seller", email=email)
    resent = api.post("/auth/verify-email/resend", headers=user.auth)
    assert resent.status_code == 200
    assert resent.json()["verificationCodeSentTo"]["deliveryMedium"] == "EMAIL"
    first, second = mailed_codes(api, email)
    if first != second:
        stale = api.post("/auth/verify-email", json={"code": first}, headers=user.auth)
        assert error_code(stale) == "INVALID_VERIFICATION_CODE"
    assert api.post("/auth/verify-email", json={"code": second}, headers=user.auth).status_code == 200


def test_the_id_token_cannot_stand_in_for_the_access_token(api, local_only):
    user = register(api, "buyer")
    answer = api.post("/auth/verify-email", json={"code": "123456"},
                      headers={"Authorization": f"Bearer {user.id_token}"})  # fmt: skip
    assert answer.status_code == 401 and error_code(answer) == "UNAUTHORIZED"


def test_the_verification_routes_need_a_signed_in_user(api):
    assert api.get("/me").status_code == 401
    assert api.post("/auth/verify-email", json={"code": "123456"}).status_code == 401
    assert api.post("/auth/verify-email/resend").status_code == 401


def test_in_the_dev_stage_an_unverified_seller_lists(api, seller):
    assert api.get("/me", headers=seller.auth).json()["emailVerified"] is False
    assert api.post("/items", json=new_item(), headers=seller.auth).status_code == 201


def _verify(client: httpx.Client, user: User) -> None:
    (code,) = mailed_codes(client, user.email)
    assert client.post("/auth/verify-email", json={"code": code}, headers=user.auth).status_code == 200


def test_when_required_an_unverified_seller_cannot_list_and_a_verified_one_can(strict_api):
    seller = register(strict_api, "seller")
    refused = strict_api.post("/items", json=new_item(), headers=seller.auth)
    assert refused.status_code == 403 and error_code(refused) == "EMAIL_NOT_VERIFIED"
    imports = strict_api.post("/imports", json={"format": "csv"}, headers=seller.auth)
    assert imports.status_code == 403 and error_code(imports) == "EMAIL_NOT_VERIFIED"

    _verify(strict_api, seller)
    listed = strict_api.post("/items", json=new_item(), headers=seller.auth)
    assert listed.status_code == 201, listed.text
    assert strict_api.post("/imports", json={"format": "csv"}, headers=seller.auth).status_code == 201


def test_when_required_the_id_token_claim_is_trusted_only_once_it_says_true(strict_api):
    seller = register(strict_api, "seller")
    by_id_token: dict[str, Any] = {"Authorization": f"Bearer {seller.id_token}"}
    refused = strict_api.post("/items", json=new_item(), headers=by_id_token)
    assert error_code(refused) == "EMAIL_NOT_VERIFIED"
    _verify(strict_api, seller)
    # The old ID token still says false until the seller refreshes it.
    assert error_code(strict_api.post("/items", json=new_item(), headers=by_id_token)) == "EMAIL_NOT_VERIFIED"
    fresh = strict_api.post("/auth/refresh", json={"refreshToken": seller.refresh_token}).json()["idToken"]
    listed = strict_api.post("/items", json=new_item(), headers={"Authorization": f"Bearer {fresh}"})
    assert listed.status_code == 201, listed.text


def test_when_required_a_buyer_is_still_refused_as_a_buyer(strict_api):
    buyer = register(strict_api, "buyer")
    refused = strict_api.post("/items", json=new_item(), headers=buyer.auth)
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"


def test_each_registration_mails_one_code_to_its_own_address(api, local_only):
    email = unique_email("mailbox")
    register(api, "buyer", email=email)
    assert len(mailed_codes(api, email)) == 1
