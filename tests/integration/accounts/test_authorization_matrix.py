"""Who may call what, over real HTTP: every operation of the served OpenAPI document x every kind of caller.

One table, MATRIX: a row per operation (more for an operation whose object belongs to someone), a column per
caller in CALLERS, the status each one gets. A new operation without a row fails the test, so no route
reaches production without its answer for each caller written down. The rules it proves are in
docs/api.md ("who") and docs/security.md ("Authentication and authorization"):
- anonymous callers get API Gateway's 401 on every route behind the JWT authorizer;
- every signed-in role reads their own account and verifies its email (GET /me, /auth/verify-email*);
- buyer routes (cart, checkout, orders, payments) refuse seller accounts with 403 FORBIDDEN; an admin shops
  like a buyer, on their own account only;
- seller routes refuse buyers and admins with 403; another seller's item is 403 (items are public), except
  restocking it, 404 (the restock may not read items), and another seller's import 404 (imports are not);
- another buyer's cart, order and payment are 404, for other buyers and admins alike;
- every account has its own profile and address book; another account's address is 404;
- the wishlist is shopping (sellers 403); every signed-in role has an inbox and preferences of their own, and
  another user's notification is 404.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import Stack
from tests.support.checkout import checkout, confirm_payment, fill_cart
from tests.support.polling import eventually
from tests.support.users import PASSWORD, User, new_item, register, unique_email

CALLERS = ("anonymous", "buyer", "other buyer", "seller", "other seller", "admin")


@dataclass
class World:
    """The callers and what they own, made once for the module through the API (the admin through Cognito)."""

    users: dict[str, User]  # by CALLERS name, anonymous excepted
    item: str  # the seller's item: the target of every change an item route makes
    shelf_item: str  # the other seller's item, which carts and orders buy
    import_id: str  # the seller's import
    checkout_body: dict[str, Any]  # the buyer's last checkout, sent again with its key: the same order
    checkout_key: str
    order_id: str  # the buyer's order that the matrix cancels
    payment_id: str  # the buyer's payment, confirmed
    address_id: str  # the buyer's address (added after the checkouts, which priced without one)
    notification_id: str  # one of the buyer's notifications (of their confirmed order)

    def version(self, item_id: str, api: httpx.Client) -> int:
        return int(api.get(f"/items/{item_id}").json()["version"])


Body = Callable[[World, httpx.Client], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the operation's path as the OpenAPI document names it
    expected: tuple[int, int, int, int, int, int]  # one status per CALLERS column
    url: str = ""  # the URL called, with World's fields in braces; the route itself when empty
    body: Body | None = None
    headers: Callable[[World], dict[str, str]] | None = None


ANYONE = (200, 200, 200, 200, 200, 200)
SIGNED_IN = (401, 200, 200, 200, 200, 200)  # every role, each about their own account
BUYERS = (401, 200, 200, 403, 403, 200)  # the caller's own cart and orders: sellers refused, admins shop
SELLERS_NEW = (401, 403, 403, 201, 201, 403)  # a seller creating something of their own
SELLERS_ITEM = (401, 403, 403, 200, 403, 403)  # a change to the seller's item
BUYERS_OBJECT = (401, 200, 404, 403, 403, 404)  # the buyer's order or payment: nobody else learns it exists
OWN_ADDRESS = (401, 200, 404, 404, 404, 404)  # the buyer's address: any other account's address book lacks it
ADDRESS = {"name": "Matrix", "line1": "1 Congress Ave", "city": "Austin", "region": "TX", "postalCode": "78701",
           "country": "US"}  # fmt: skip


def _registration(world: World, api: httpx.Client) -> dict[str, Any]:
    return {"email": unique_email("matrix"), "password": PASSWORD, "name": "Matrix", "role": "buyer"}


def _item_change(world: World, api: httpx.Client) -> dict[str, Any]:
    return {"version": world.version(world.item, api), "description": "Changed by its seller"}


def _one_of_the_shelf_item(world: World, api: httpx.Client) -> dict[str, Any]:
    return {"itemId": world.shelf_item, "quantity": 1}


# fmt: off
MATRIX: list[Row] = [
    #   method    route                               anon  buyer other seller other admin
    Row("POST",   "/auth/register",                   (201, 201, 201, 201, 201, 201), body=_registration),
    Row("POST",   "/auth/login",                      ANYONE, body=lambda w, _: {"email": w.users["buyer"].email,
                                                                                  "password": PASSWORD}),
    Row("POST",   "/auth/refresh",                    ANYONE,
        body=lambda w, _: {"refreshToken": w.users["buyer"].refresh_token}),
    Row("GET",    "/me",                              SIGNED_IN),
    Row("POST",   "/auth/verify-email/resend",        SIGNED_IN),
    # A wrong code reaches Cognito for every role (422); the admin's address was verified by the operator.
    Row("POST",   "/auth/verify-email",               (401, 422, 422, 422, 422, 200),
        body=lambda w, _: {"code": "000000"}),
    Row("GET",    "/openapi.json",                    ANYONE),
    Row("GET",    "/items",                           ANYONE),
    Row("GET",    "/items/suggest",                   ANYONE, url="/items/suggest?prefix=wire"),
    Row("GET",    "/items/{itemId}",                  ANYONE, url="/items/{item}"),
    # Guest carts never read the Authorization header: a signed-in caller is a guest there too.
    Row("GET",    "/guest-cart",                      ANYONE),
    Row("PATCH",  "/guest-cart",                      ANYONE, body=_one_of_the_shelf_item),
    Row("DELETE", "/guest-cart",                      ANYONE),
    # Seller routes.
    Row("POST",   "/items",                           SELLERS_NEW, body=lambda w, _: new_item()),
    Row("PATCH",  "/items/{itemId}",                  SELLERS_ITEM, url="/items/{item}", body=_item_change),
    Row("POST",   "/items/{itemId}/deactivate",       SELLERS_ITEM, url="/items/{item}/deactivate"),
    Row("POST",   "/items/{itemId}/activate",         SELLERS_ITEM, url="/items/{item}/activate"),
    # Restocking only condition-checks the item (its function may not read items): another seller's is 404.
    Row("POST",   "/items/{itemId}/stock",            (401, 403, 403, 200, 404, 403), url="/items/{item}/stock",
        body=lambda w, _: {"quantity": 1}),
    Row("POST",   "/items/{itemId}/images",           (401, 403, 403, 201, 403, 403), url="/items/{item}/images"),
    Row("POST",   "/imports",                         SELLERS_NEW, body=lambda w, _: {"format": "jsonl"}),
    Row("GET",    "/imports/{importId}",              (401, 403, 403, 200, 404, 403), url="/imports/{import_id}"),
    # Buyer routes: each caller's own cart and orders.
    Row("GET",    "/cart",                            BUYERS),
    Row("PATCH",  "/cart",                            BUYERS, body=_one_of_the_shelf_item),
    Row("DELETE", "/cart",                            BUYERS),
    Row("POST",   "/cart/merge",                      BUYERS,
        body=lambda w, _: {"cartToken": f"ct_{secrets.token_urlsafe(32)}"}),  # unknown: merges nothing
    Row("GET",    "/orders",                          BUYERS),
    # ... and the buyer's objects: another buyer's cart (checking it out), order and payment.
    Row("POST",   "/checkout",                        (401, 202, 404, 403, 403, 404),
        body=lambda w, _: w.checkout_body, headers=lambda w: {"Idempotency-Key": w.checkout_key}),
    Row("GET",    "/orders/{orderId}",                BUYERS_OBJECT, url="/orders/{order_id}"),
    Row("POST",   "/orders/{orderId}/cancel",         BUYERS_OBJECT, url="/orders/{order_id}/cancel"),
    Row("POST",   "/payments/{paymentId}/confirm",    BUYERS_OBJECT, url="/payments/{payment_id}/confirm"),
    # The wishlist is shopping too; each caller's own.
    Row("GET",    "/wishlist",                        BUYERS),
    Row("PUT",    "/wishlist/items/{itemId}",         BUYERS, url="/wishlist/items/{shelf_item}"),
    Row("DELETE", "/wishlist/items/{itemId}",         BUYERS, url="/wishlist/items/{shelf_item}"),
    # Recommendations: the home page and related items for anyone; each account's own home page.
    Row("GET",    "/recommendations/home",            ANYONE),
    Row("GET",    "/items/{itemId}/related",          ANYONE, url="/items/{item}/related"),
    Row("GET",    "/me/recommendations",              SIGNED_IN),
    # Every account has an inbox and preferences of its own; another's notification is 404.
    Row("GET",    "/notifications",                   SIGNED_IN),
    Row("GET",    "/notifications/preferences",       SIGNED_IN),
    Row("PUT",    "/notifications/preferences",       SIGNED_IN, body=lambda w, _: {"kinds": {"priceDrop": True}}),
    Row("POST",   "/notifications/{notificationId}/read", (401, 200, 404, 404, 404, 404),
        url="/notifications/{notification_id}/read"),
    # Every account's own profile and address book.
    Row("PATCH",  "/me",                              SIGNED_IN, body=lambda w, _: {"name": "Matrix Renamed"}),
    Row("GET",    "/me/addresses",                    SIGNED_IN),
    Row("POST",   "/me/addresses",                    (401, 201, 201, 201, 201, 201), body=lambda w, _: ADDRESS),
    Row("GET",    "/me/addresses/{addressId}",        OWN_ADDRESS, url="/me/addresses/{address_id}"),
    Row("PATCH",  "/me/addresses/{addressId}",        OWN_ADDRESS, url="/me/addresses/{address_id}",
        body=lambda w, _: {"line2": "Suite 100"}),
    Row("DELETE", "/me/addresses/{addressId}",        (401, 204, 404, 404, 404, 404), url="/me/addresses/{address_id}"),
    # Last: every caller deletes their own account (nothing after this row may need them).
    Row("DELETE", "/me",                              (401, 204, 204, 204, 204, 204)),
]
# fmt: on


def make_admin(api: httpx.Client, stack: Stack) -> User:
    """An admin as an operator makes one (the API never does): a user of the stack's pool in the admins group."""
    cognito, pool = stack.client("cognito-idp"), stack.outputs["UserPoolId"]
    email = unique_email("admin")
    cognito.admin_create_user(
        UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                        {"Name": "name", "Value": "Test admin"}],
    )  # fmt: skip
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="admins")
    login = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert claims["cognito:groups"] == ["admins"]  # an admin and nothing else: no buyers or sellers group
    return User(email, PASSWORD, "admin", claims["sub"], tokens["accessToken"], tokens["idToken"],
                tokens["refreshToken"])  # fmt: skip


@pytest.fixture(scope="module")
def world(api: httpx.Client, stack: Stack) -> World:
    users = {
        "buyer": register(api, "buyer"), "other buyer": register(api, "buyer"),
        "seller": register(api, "seller"), "other seller": register(api, "seller"), "admin": make_admin(api, stack),
    }  # fmt: skip
    buyer, seller = users["buyer"], users["seller"]
    items = [api.post("/items", headers=users[name].auth, json=new_item()) for name in ("seller", "other seller")]
    assert all(answer.status_code == 201 for answer in items), [answer.text for answer in items]
    started = api.post("/imports", headers=seller.auth, json={"format": "csv"})
    assert started.status_code == 201, started.text
    shelf_item = items[1].json()["itemId"]

    to_pay = checkout(api, buyer, fill_cart(api, buyer, shelf_item), "3220")  # needs the buyer's confirmation
    assert to_pay.status_code == 202, to_pay.text
    payment_id = _payment_of(api, buyer, to_pay.json()["orderId"])
    confirmed = confirm_payment(api, buyer, payment_id)
    assert confirmed.status_code == 200, confirmed.text
    # The saga takes the bought line out of the cart after the confirmation answers; a line set before then
    # is the bought one (same item, same quantity) and goes with it (shop.cart.remove_bought).
    eventually(lambda: not api.get("/cart", headers=buyer.auth).json()["lines"], message="the bought line gone")

    cart, key = fill_cart(api, buyer, shelf_item), uuid.uuid4().hex
    to_cancel = checkout(api, buyer, cart, "4242", key=key)
    assert to_cancel.status_code == 202, to_cancel.text
    body = {"cartId": cart["cartId"], "amount": cart["totals"]["total"],
            "paymentInfo": {"paymentType": "CARD", "cardNo": "4242 4242 4242 4242"}}  # as checkout() sent it
    address = api.post("/me/addresses", headers=buyer.auth, json=ADDRESS)
    assert address.status_code == 201, address.text
    return World(
        users=users, item=items[0].json()["itemId"], shelf_item=shelf_item, import_id=started.json()["importId"],
        checkout_body=body, checkout_key=key, order_id=to_cancel.json()["orderId"],
        payment_id=payment_id, address_id=address.json()["addressId"],
        notification_id=_a_notification_of(api, buyer),
    )  # fmt: skip


def _a_notification_of(api: httpx.Client, buyer: User) -> str:
    """The id of one of the buyer's notifications (their orders notify them once the events are through)."""

    def first() -> str | None:
        page = api.get("/notifications", headers=buyer.auth).json()
        return page["notifications"][0]["notificationId"] if page["notifications"] else None

    return eventually(first, timeout=60, message="a notification of the buyer's orders")


def _payment_of(api: httpx.Client, buyer: User, order_id: str) -> str:
    order = api.get(f"/orders/{order_id}", headers=buyer.auth)
    assert order.status_code == 200, order.text
    return str(order.json()["paymentId"])


def _call(api: httpx.Client, world: World, row: Row, caller: str) -> httpx.Response:
    headers = dict(row.headers(world)) if row.headers else {}
    if caller != "anonymous":
        headers.update(world.users[caller].auth)
    url = (row.url or row.route).format(**vars(world))
    body = row.body(world, api) if row.body else None
    return api.request(row.method, url, headers=headers, json=body)


def test_who_may_call_what(api: httpx.Client, world: World) -> None:
    served = api.get("/openapi.json").json()["paths"]
    operations = {(method.upper(), path) for path, item in served.items() for method in item}
    rows = {(row.method, row.route) for row in MATRIX}
    assert operations - rows == set(), "operations of GET /openapi.json without a row in MATRIX"
    assert rows - operations == set(), "rows of MATRIX for operations the API does not serve"

    wrong = []
    for row in MATRIX:
        for caller, expected in zip(CALLERS, row.expected, strict=True):
            answer = _call(api, world, row, caller)
            if answer.status_code != expected:
                wrong.append(f"{row.method} {row.route} as {caller}: {answer.status_code}, not {expected}: "
                             f"{answer.text[:200]}")  # fmt: skip
            elif expected == 401:
                # API Gateway's own answer: the function never ran.
                assert answer.json() == {"message": "Unauthorized"}, (row, answer.text)
            elif expected == 403:
                assert answer.json()["error"]["code"] == "FORBIDDEN", (row, caller, answer.text)
    assert wrong == [], "\n".join(wrong)
