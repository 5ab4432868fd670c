"""Profiles and address books over HTTP: CRUD and the one default, the default address deciding the cart's and
checkout's tax and travelling with the order, and DELETE /me leaving no personal data behind."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.conftest import Stack
from tests.support.checkout import checkout, fill_cart, listed_item, wait_order
from tests.support.events import wait_for_event
from tests.support.polling import eventually
from tests.support.users import PASSWORD, User, error_code, register, unique_email

UNKNOWN_ADDRESS = "adr_01ARZ3NDEKTSV4RRFFQ69G5FAV"


def address(**fields: Any) -> dict[str, Any]:
    return {"name": "Ada Lovelace", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
            "postalCode": "94105", "country": "US", **fields}  # fmt: skip


def add(api: httpx.Client, user: User, **fields: Any) -> dict[str, Any]:
    added = api.post("/me/addresses", headers=user.auth, json=address(**fields))
    assert added.status_code == 201, added.text
    assert added.headers["location"] == f"/me/addresses/{added.json()['addressId']}"
    return dict(added.json())


def book(api: httpx.Client, user: User) -> dict[str, Any]:
    answer = api.get("/me/addresses", headers=user.auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def defaults(api: httpx.Client, user: User) -> list[str]:
    return [entry["addressId"] for entry in book(api, user)["addresses"] if entry["default"]]


def test_the_first_address_is_the_default_and_exactly_one_stays_default(api: httpx.Client) -> None:
    buyer = register(api, "buyer")
    assert book(api, buyer) == {"addresses": [], "defaultAddressId": None, "maxAddresses": 20}
    home = add(api, buyer)
    assert home["default"] and home["taxRegion"] == "US-CA"
    work = add(api, buyer, line1="2 Mission St", postalCode="94105-1234")
    assert not work["default"]
    assert defaults(api, buyer) == [home["addressId"]]

    switched = api.patch(f"/me/addresses/{work['addressId']}", headers=buyer.auth, json={"default": True})
    assert switched.status_code == 200 and switched.json()["default"], switched.text
    assert defaults(api, buyer) == [work["addressId"]]
    assert api.get("/me", headers=buyer.auth).json()["defaultAddressId"] == work["addressId"]

    # false on the default is refused (one must stay default); on another address it changes nothing
    refused = api.patch(f"/me/addresses/{work['addressId']}", headers=buyer.auth, json={"default": False})
    assert (refused.status_code, error_code(refused)) == (409, "DEFAULT_ADDRESS_REQUIRED")
    kept = api.patch(f"/me/addresses/{home['addressId']}", headers=buyer.auth, json={"default": False})
    assert kept.status_code == 200 and not kept.json()["default"]

    moved = api.patch(f"/me/addresses/{home['addressId']}", headers=buyer.auth,
                      json={"country": "GB", "region": None, "postalCode": "sw1a1aa", "line2": "Flat 3"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert (moved.json()["postalCode"], moved.json()["taxRegion"], moved.json()["line2"]) == ("SW1A 1AA", "GB",
                                                                                              "Flat 3")  # fmt: skip

    # deleting the default promotes the oldest remaining address; deleting the last leaves none
    assert api.delete(f"/me/addresses/{work['addressId']}", headers=buyer.auth).status_code == 204
    assert defaults(api, buyer) == [home["addressId"]]
    gone = api.get(f"/me/addresses/{work['addressId']}", headers=buyer.auth)
    assert (gone.status_code, error_code(gone)) == (404, "ADDRESS_NOT_FOUND")
    assert api.delete(f"/me/addresses/{home['addressId']}", headers=buyer.auth).status_code == 204
    assert book(api, buyer)["defaultAddressId"] is None


def test_addresses_are_checked_per_country_and_refusals_name_the_field(api: httpx.Client) -> None:
    buyer = register(api, "buyer")
    cases = [
        (address(postalCode="9410"), "postalCode"),
        (address(region=None), "region"),
        (address(region="ZZ"), "region"),
        (address(country="DE", region=None, postalCode="1011"), "postalCode"),
        (address(country="JP", region=None, postalCode="100-001"), "postalCode"),
        (address(country="IN", region=None, postalCode="011001"), "postalCode"),
        (address(country="XX"), "country"),
        (address(phone="12"), "phone"),
        ({k: v for k, v in address().items() if k != "city"}, "city"),
    ]
    for body, field in cases:
        refused = api.post("/me/addresses", headers=buyer.auth, json=body)
        assert (refused.status_code, error_code(refused)) == (422, "VALIDATION_FAILED"), body
        assert [entry["field"] for entry in refused.json()["error"]["details"]["fields"]] == [field], refused.text
    assert book(api, buyer)["addresses"] == []

    stranger = register(api, "buyer")
    mine = add(api, buyer)
    for method in ("GET", "PATCH", "DELETE"):
        answer = api.request(method, f"/me/addresses/{mine['addressId']}", headers=stranger.auth,
                             json={"city": "Elsewhere"} if method == "PATCH" else None)  # fmt: skip
        assert (answer.status_code, error_code(answer)) == (404, "ADDRESS_NOT_FOUND"), method
    unknown = api.patch(f"/me/addresses/{UNKNOWN_ADDRESS}", headers=buyer.auth, json={"city": "X"})
    assert (unknown.status_code, error_code(unknown)) == (404, "ADDRESS_NOT_FOUND")


def test_the_address_book_is_bounded(api: httpx.Client) -> None:
    buyer = register(api, "buyer")
    for n in range(20):
        add(api, buyer, line1=f"{n + 1} Market St")
    full = api.post("/me/addresses", headers=buyer.auth, json=address(line1="21 Market St"))
    assert (full.status_code, error_code(full)) == (409, "TOO_MANY_ADDRESSES")
    assert full.json()["error"]["details"] == {"maxAddresses": 20}
    assert len(book(api, buyer)["addresses"]) == 20


def test_the_profile_changes_name_and_phone_but_not_what_the_pool_owns(api: httpx.Client) -> None:
    buyer = register(api, "buyer")
    changed = api.patch("/me", headers=buyer.auth, json={"name": "Grace Hopper", "phone": "+44 20 7946 0958"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["phone"]) == ("Grace Hopper", "+442079460958")
    assert api.get("/me", headers=buyer.auth).json()["name"] == "Grace Hopper"
    cleared = api.patch("/me", headers=buyer.auth, json={"phone": None})
    assert cleared.json()["phone"] is None
    for body in ({"emailVerified": True}, {"email": "x@example.com"}, {"phone": "12"}, {"name": None}):
        refused = api.patch("/me", headers=buyer.auth, json=body)
        assert (refused.status_code, error_code(refused)) == (422, "VALIDATION_FAILED"), body
    assert api.get("/me", headers=buyer.auth).json()["emailVerified"] is False


def test_the_default_address_decides_tax_and_the_order_keeps_a_copy(api: httpx.Client) -> None:
    item_id = listed_item(api, price=10_000)
    buyer = register(api, "buyer")
    plain = fill_cart(api, buyer, item_id)
    assert (plain["region"], plain["totals"]["tax"]) == ("US", 0)  # no address: the configured default region
    home = add(api, buyer, name="Ada Lovelace", line2="Apt 7", phone="+14155552671")

    cart = api.get("/cart", headers=buyer.auth).json()
    assert (cart["region"], cart["totals"]["tax"]) == ("US-CA", 725)  # 7.25 % of 100.00
    assert api.get("/cart", headers=buyer.auth, params={"region": "us-ca"}).status_code == 200
    other = api.get("/cart", headers=buyer.auth, params={"region": "DE"})
    assert (other.status_code, error_code(other)) == (422, "VALIDATION_FAILED")
    assert other.json()["error"]["details"]["fields"][0]["field"] == "region"

    accepted = checkout(api, buyer, cart, "4242")
    assert accepted.status_code == 202, accepted.text
    order = wait_order(api, buyer, accepted.json()["orderId"])
    assert order["totals"]["tax"] == 725 and order["amount"] == cart["totals"]["total"]
    assert order["address"] == {
        "addressId": home["addressId"], "name": "Ada Lovelace", "line1": "1 Market St", "line2": "Apt 7",
        "city": "San Francisco", "region": "CA", "postalCode": "94105", "country": "US", "phone": "+14155552671",
        "taxRegion": "US-CA",
    }  # fmt: skip

    # the order's copy does not follow later edits of the address book
    api.patch(f"/me/addresses/{home['addressId']}", headers=buyer.auth, json={"line1": "9 Elsewhere Rd"})
    assert api.get(f"/orders/{order['orderId']}", headers=buyer.auth).json()["address"]["line1"] == "1 Market St"


def test_a_default_address_the_shop_does_not_ship_to_is_refused_at_the_cart(api: httpx.Client) -> None:
    buyer = register(api, "buyer")
    add(api, buyer, country="FR", region=None, postalCode="75008", city="Paris")
    refused = api.get("/cart", headers=buyer.auth)
    assert (refused.status_code, error_code(refused)) == (409, "SHIPPING_COUNTRY_NOT_SERVED")
    assert refused.json()["error"]["details"]["country"] == "FR"


def _scan_every_table(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    dynamodb = stack.client("dynamodb")
    rows: dict[str, list[dict[str, Any]]] = {}
    for name in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            rows.setdefault(name, []).extend(page["Items"])
    return rows


def _objects_holding(stack: Stack, values: tuple[str, ...]) -> list[str]:
    """Every object of every bucket of the stack (its *BucketName outputs) that holds any of `values`."""
    s3, found = stack.client("s3"), []
    for bucket in (name for output, name in stack.outputs.items() if output.endswith("BucketName")):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                if any(value.encode() in body for value in values):
                    found.append(f"s3://{bucket}/{entry['Key']}")
    return found


def test_deleting_the_account_leaves_no_personal_data(api: httpx.Client, stack: Stack) -> None:
    marker = uuid.uuid4().hex[:10]
    email, name = unique_email(f"gone-{marker}"), f"Erasable Person {marker}"
    created = api.post("/auth/register", json={"email": email, "password": PASSWORD, "name": name, "role": "buyer"})
    assert created.status_code == 201, created.text
    tokens = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
    buyer = User(email, PASSWORD, "buyer", created.json()["userId"], tokens["accessToken"], tokens["idToken"],
                 tokens["refreshToken"])  # fmt: skip
    api.patch("/me", headers=buyer.auth, json={"phone": "+14155550123"})
    add(api, buyer, name=name, line1=f"{marker} Erasure Lane", phone="+14155550123")
    add(api, buyer, name=name, country="GB", region=None, postalCode="SW1A 1AA", city="London")
    cart = fill_cart(api, buyer, listed_item(api))
    order_id = checkout(api, buyer, cart, "4242").json()["orderId"]
    order = wait_order(api, buyer, order_id)
    assert order["address"]["name"] == name
    before = json.dumps(_scan_every_table(stack))
    assert name in before and marker in before  # what the scan below must not find any more

    assert api.delete("/me", headers=buyer.auth).status_code == 204

    signed_in = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert (signed_in.status_code, error_code(signed_in)) == (401, "INVALID_CREDENTIALS")
    # the access token lives on at the gateway until it expires; the profile refuses it
    for method, path in (("GET", "/me/addresses"), ("POST", "/me/addresses"), ("PATCH", "/me"), ("GET", "/cart"),
                         ("POST", "/auth/verify-email/resend"), ("POST", "/auth/verify-email")):
        body = (address() if path == "/me/addresses" else {"phone": "+14155550123"} if method == "PATCH"
                else {"code": "123456"} if path == "/auth/verify-email" else None)  # fmt: skip
        late = api.request(method, path, headers=buyer.auth, json=body)
        assert (late.status_code, error_code(late)) == (401, "ACCOUNT_DELETED"), (method, path)
    assert api.delete("/me", headers=buyer.auth).status_code == 204  # a retry finds it done

    announced = wait_for_event(stack, lambda e: e["detail"]["data"] == {"userId": buyer.user_id},
                               type="AccountDeleted")  # fmt: skip
    assert announced["source"] == "shop.accounts"

    # The wishlist and notifications erase their rows when AccountDeleted reaches them: wait for it.
    personal = (email, name, marker, "+14155550123")

    def erased() -> dict[str, list[dict[str, Any]]] | None:
        rows = _scan_every_table(stack)
        after = json.dumps(rows)
        return None if any(value in after for value in personal) else rows

    rows = eventually(erased, timeout=60, message=f"no table holds any of {personal} any more")
    assert _objects_holding(stack, personal) == []  # nor does any bucket (order archive, imports, media)
    kept = [row for row in rows[stack.outputs["OrdersTableName"]] if row.get("orderId", {}).get("S") == order_id]
    order_row = next(row for row in kept if row["sk"]["S"] == "ORDER")
    assert order_row["amount"] == {"N": str(order["amount"])} and order_row["lines"]["L"]  # kept for the books
    assert order_row["address"]["M"] == {"country": {"S": "US"}, "taxRegion": {"S": "US-CA"},
                                         "anonymised": {"BOOL": True}}  # fmt: skip

