"""The published OpenAPI document against the running system: every documented operation of docs/openapi.json
is driven once to its documented success status, and the live body must validate against the schema the
document gives for that status (OpenAPI 3.1 schemas are JSON Schema 2020-12; `#/components/schemas` refs
resolve in the document). One error per route family must match the documented ErrorBody. A route added to
the document without being driven here fails the suite, and so does one driven here but not documented.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from PIL import Image

from tests.support.users import PASSWORD, User, error_code, register, unique_email

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
OPERATIONS = sorted(
    (method.upper(), path) for path, operations in DOCUMENT["paths"].items() for method in operations
)  # fmt: skip
WAIT_SECONDS = 30.0
Operation = tuple[str, str]  # (method, path as documented: "/items/{itemId}")


def documented(operation: Operation) -> dict[str, Any]:
    method, path = operation
    found: dict[str, Any] = DOCUMENT["paths"][path][method.lower()]
    return found


def success_status(operation: Operation) -> int:
    (status,) = [int(code) for code in documented(operation)["responses"] if code.startswith("2")]
    return status


def schema_errors(operation: Operation, response: httpx.Response) -> list[str]:
    """Why the response's body does not match what the document says for its status (none when it does)."""
    answers = documented(operation)["responses"]
    if str(response.status_code) not in answers:
        return [f"status {response.status_code} is not documented (documented: {sorted(answers)})"]
    content = answers[str(response.status_code)].get("content", {})
    if "application/json" not in content:
        return ["no application/json body is documented for this status"]
    if not response.headers.get("content-type", "").startswith("application/json"):
        return [f"answered {response.headers.get('content-type')}, documented application/json"]
    # The operation's schema with the document's components beside it, so "#/components/schemas/X" resolves.
    schema = {**content["application/json"]["schema"], "components": DOCUMENT["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in validator.iter_errors(response.json())
    ]


@dataclass
class Tour:
    """Every documented operation driven once, in an order that gives each what it needs."""

    api: httpx.Client
    answers: dict[Operation, httpx.Response] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, path: str, *, record: bool = True, **kwargs: Any) -> httpx.Response:
        """Send `method path` ({name} filled from keyword `path_params`); keep the answer as the operation's."""
        params = kwargs.pop("path_params", {})
        response = self.api.request(method, path.format(**params), **kwargs)
        if record:
            self.answers[(method, path)] = response
        return response

    def expect(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == success_status((method, path)), f"{method} {path}: {response.text}"
        return response.json() if response.status_code != 204 else None

    def until(self, method: str, path: str, ready: Callable[[Any], bool], **kwargs: Any) -> Any:
        """Poll (unrecorded) until `ready(body)`, then answer once more, recorded."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            response = self.call(method, path, record=False, **kwargs)
            if response.status_code == success_status((method, path)) and ready(response.json()):
                return self.expect(method, path, **kwargs)
            assert time.monotonic() < deadline, f"{method} {path} not ready within {WAIT_SECONDS} s: {response.text}"
            time.sleep(0.2)


def post_form(form: dict[str, Any], content: bytes, filename: str, content_type: str | None = None) -> None:
    """Send a file with a presigned S3 POST form (UploadForm): its fields, then the file as `file`."""
    fields = {**form["fields"], **({"Content-Type": content_type} if content_type else {})}
    sent = httpx.post(form["url"], data=fields, files={"file": (filename, content)}, timeout=60)
    assert sent.status_code in (200, 201, 204), sent.text


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "PNG")
    return out.getvalue()


def _accounts(tour: Tour) -> User:
    email = unique_email("openapi-seller")
    registration = {"email": email, "password": PASSWORD, "name": "Doc Seller", "role": "seller"}
    account = tour.expect("POST", "/auth/register", json=registration)
    tokens = tour.expect("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    tour.expect("POST", "/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    auth = {"Authorization": f"Bearer {tokens['accessToken']}"}
    tour.expect("GET", "/me", headers=auth)
    tour.expect("POST", "/auth/verify-email/resend", headers=auth)
    # The latest code, from the local cloud's mailbox (docs/local-cloud.md): it replaced the first one.
    mail = tour.api.get("/_local/mail", params={"to": email}).json()["messages"]
    code = re.findall(r"\b\d{6}\b", mail[-1]["body"])[0]
    tour.expect("POST", "/auth/verify-email", json={"code": code}, headers=auth)
    return User(email, PASSWORD, "seller", account["userId"], tokens["accessToken"], tokens["idToken"],
                tokens["refreshToken"])  # fmt: skip


def _catalog(tour: Tour, seller: User) -> str:
    marker = uuid.uuid4().hex[:8]
    tour.values["marker"] = marker
    body = {
        "name": f"Reading Lamp {marker}", "description": "Warm LED light", "price": 1500, "quantity": 100,
        "brand": "Lumo", "category": "Home", "tags": ["lamp", "light"], "attributes": {"watts": 9},
        "variants": [{"variantId": "RD", "attributes": {"color": "red"}, "stock": 50},
                     {"attributes": {"color": "blue"}, "stock": 50, "price": 1700}],
    }  # fmt: skip
    created = tour.expect("POST", "/items", json=body, headers={**seller.auth, "Idempotency-Key": marker})
    item_id = str(created["itemId"])
    ids = {"itemId": item_id}
    upload = tour.expect("POST", "/items/{itemId}/images", path_params=ids, headers=seller.auth)
    post_form(upload["upload"], png(), "lamp.png", "image/png")
    item = tour.until("GET", "/items/{itemId}", lambda got: got["images"][0]["status"] != "PENDING", path_params=ids)
    assert item["images"][0]["status"] == "READY", item["images"]
    tour.expect("PATCH", "/items/{itemId}", path_params=ids, headers=seller.auth,
                json={"version": item["version"], "name": f"Reading Lamp {marker} Pro"})  # fmt: skip
    tour.expect("POST", "/items/{itemId}/deactivate", path_params=ids, headers=seller.auth)
    tour.expect("POST", "/items/{itemId}/activate", path_params=ids, headers=seller.auth)
    tour.expect("POST", "/items/{itemId}/stock", path_params=ids, headers=seller.auth,
                json={"variantId": "RD", "quantity": 5})  # fmt: skip

    started = tour.expect("POST", "/imports", json={"format": "jsonl"}, headers=seller.auth)
    rows = [{"name": f"Desk Lamp {marker}", "description": "LED", "price": 2599, "quantity": 3},
            {"name": "Broken", "description": "", "price": 9.99, "quantity": 1}]  # fmt: skip
    post_form(started["upload"], "\n".join(json.dumps(row) for row in rows).encode(), "lamps.jsonl")
    report = tour.until("GET", "/imports/{importId}", lambda got: got["status"] in ("COMPLETED", "FAILED"),
                        path_params={"importId": started["importId"]}, headers=seller.auth)  # fmt: skip
    assert (report["status"], report["created"], report["failed"]) == ("COMPLETED", 1, 1), report
    return item_id


def _search(tour: Tour, item_id: str) -> None:
    marker = tour.values["marker"]
    tour.until("GET", "/items", lambda page: any(hit["itemId"] == item_id for hit in page["items"]),
               params={"term": f"lamp {marker}", "inStock": "true"})  # fmt: skip
    tour.expect("GET", "/items/suggest", params={"prefix": f"reading lamp {marker[:5]}"})


def _buying(tour: Tour, item_id: str) -> None:
    buyer = register(tour.api, "buyer")
    tour.values["buyer"] = buyer
    tour.expect("PATCH", "/cart", headers=buyer.auth, json={"itemId": item_id, "variantId": "RD", "quantity": 2})
    guest = tour.expect("PATCH", "/guest-cart", json={"itemId": item_id, "variantId": "v1", "quantity": 1})
    token = {"X-Cart-Token": guest["cartToken"]}
    tour.expect("GET", "/guest-cart", headers=token)
    tour.expect("POST", "/cart/merge", headers=buyer.auth, json={"cartToken": guest["cartToken"]})
    tour.expect("DELETE", "/guest-cart", headers=token)
    cart = tour.expect("GET", "/cart", headers=buyer.auth)

    accepted = tour.expect("POST", "/checkout", headers={**buyer.auth, "Idempotency-Key": uuid.uuid4().hex},
                           json={"cartId": cart["cartId"], "amount": cart["totals"]["total"],
                                 "paymentInfo": {"paymentType": "CARD", "cardNo": "4242 4242 4242 3220"}})  # fmt: skip
    order = {"orderId": accepted["orderId"]}
    created = tour.until("GET", "/orders/{orderId}", lambda got: got["status"] != "PENDING", path_params=order,
                         headers=buyer.auth)  # fmt: skip
    assert created["status"] == "CREATED", created
    deadline = time.monotonic() + WAIT_SECONDS  # the payment exists once the saga has charged it
    while tour.call("POST", "/payments/{paymentId}/confirm", path_params={"paymentId": created["paymentId"]},
                    headers=buyer.auth).status_code != 200:  # fmt: skip
        assert time.monotonic() < deadline, "the payment never became confirmable"
        time.sleep(0.2)
    tour.until("GET", "/orders/{orderId}", lambda got: got["status"] == "CONFIRMED", path_params=order,
               headers=buyer.auth)  # fmt: skip
    tour.expect("GET", "/orders", headers=buyer.auth)
    cancelled = tour.expect("POST", "/orders/{orderId}/cancel", path_params=order, headers=buyer.auth)
    assert (cancelled["status"], cancelled["paymentStatus"]) == ("CANCELLED", "REFUNDED"), cancelled
    tour.expect("DELETE", "/cart", headers=buyer.auth)


def _profile(tour: Tour) -> None:
    """A buyer of its own: its address book and, last, its account's deletion."""
    buyer = register(tour.api, "buyer")
    tour.values["profileBuyer"] = buyer
    tour.expect("PATCH", "/me", headers=buyer.auth, json={"name": "Doc Buyer", "phone": "+14155552671"})
    home = {"name": "Doc Buyer", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
            "postalCode": "94105", "country": "US"}  # fmt: skip
    first = tour.expect("POST", "/me/addresses", headers=buyer.auth, json=home)
    second = tour.expect("POST", "/me/addresses", headers=buyer.auth,
                         json={**home, "line1": "2 Mission St", "default": True})  # fmt: skip
    tour.expect("GET", "/me/addresses", headers=buyer.auth)
    tour.expect("GET", "/me/addresses/{addressId}", headers=buyer.auth, path_params=first)
    tour.expect("PATCH", "/me/addresses/{addressId}", headers=buyer.auth, path_params=first,
                json={"line2": "Suite 5", "default": True})  # fmt: skip
    tour.expect("DELETE", "/me/addresses/{addressId}", headers=buyer.auth, path_params=second)
    tour.expect("DELETE", "/me", headers=buyer.auth)


def _wishlist_and_notifications(tour: Tour, item_id: str) -> None:
    buyer: User = tour.values["buyer"]
    item = {"itemId": item_id}
    tour.expect("PUT", "/wishlist/items/{itemId}", path_params=item, headers=buyer.auth)
    tour.expect("GET", "/wishlist", headers=buyer.auth)
    tour.expect("DELETE", "/wishlist/items/{itemId}", path_params=item, headers=buyer.auth)
    # The order _buying placed and cancelled notified its buyer (needs confirmation, confirmed, ...).
    page = tour.until("GET", "/notifications", lambda got: bool(got["notifications"]), headers=buyer.auth)
    tour.expect("POST", "/notifications/{notificationId}/read", headers=buyer.auth,
                path_params={"notificationId": page["notifications"][0]["notificationId"]})  # fmt: skip
    tour.expect("GET", "/notifications/preferences", headers=buyer.auth)
    tour.expect("PUT", "/notifications/preferences", headers=buyer.auth, json={"channels": {"email": False}})
    # Recommendations: before the job's first run they answer from the serve-time lists alone (still 200).
    tour.expect("GET", "/recommendations/home", headers={"X-Visitor-Id": "doc-visitor-1"})
    tour.expect("GET", "/me/recommendations", headers=buyer.auth)
    tour.expect("GET", "/items/{itemId}/related", path_params=item)


@pytest.fixture(scope="module")
def tour(api: httpx.Client) -> Tour:
    tour = Tour(api)
    seller = _accounts(tour)
    tour.values["seller"] = seller
    item_id = _catalog(tour, seller)
    tour.values["itemId"] = item_id
    _search(tour, item_id)
    _buying(tour, item_id)
    _wishlist_and_notifications(tour, item_id)
    _profile(tour)
    tour.expect("GET", "/openapi.json")
    return tour


@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_each_documented_operation_answers_what_the_document_says(tour: Tour, operation: Operation) -> None:
    assert operation in tour.answers, f"{' '.join(operation)} is documented but this test never drives it"
    response = tour.answers[operation]
    assert response.status_code == success_status(operation), response.text
    if response.status_code == 204:
        assert response.content == b"", "204 No Content has no body"
        return
    assert schema_errors(operation, response) == []


def test_every_documented_operation_is_driven_and_nothing_else(tour: Tour) -> None:
    assert set(tour.answers) == set(OPERATIONS)


def test_the_served_document_is_the_published_one(tour: Tour) -> None:
    assert tour.answers[("GET", "/openapi.json")].json() == DOCUMENT


# One refused request per route family (the document's tags), each answered with the documented ErrorBody.
def _errors(tour: Tour) -> dict[str, tuple[Operation, httpx.Response, int, str]]:
    api, item = tour.api, {"itemId": tour.values["itemId"]}
    buyer: User = tour.values["buyer"]
    unknown_item = "itm_01ARZ3NDEKTSV4RRFFQ69G5FAV"

    def refused(method: str, path: str, status: int, code: str, **kwargs: Any) -> Any:
        params = kwargs.pop("path_params", {})
        return (method, path), api.request(method, path.format(**params), **kwargs), status, code

    return {
        "accounts": refused("POST", "/auth/login", 401, "INVALID_CREDENTIALS",
                            json={"email": tour.values["seller"].email, "password": "Wrong-Passw0rd"}),
        "catalog": refused("GET", "/items/{itemId}", 404, "ITEM_NOT_FOUND", path_params={"itemId": unknown_item}),
        "media": refused("POST", "/items/{itemId}/images", 403, "FORBIDDEN", path_params=item, headers=buyer.auth),
        "inventory": refused("POST", "/items/{itemId}/stock", 403, "FORBIDDEN", path_params=item,
                             headers=buyer.auth, json={"quantity": 1}),
        "search": refused("GET", "/items", 422, "VALIDATION_FAILED", params={"size": 0}),
        "cart": refused("PATCH", "/cart", 404, "ITEM_NOT_FOUND", headers=buyer.auth,
                        json={"itemId": unknown_item, "quantity": 1}),
        "checkout": refused("POST", "/checkout", 400, "IDEMPOTENCY_KEY_REQUIRED", headers=buyer.auth,
                            json={"cartId": "c", "amount": 1, "paymentInfo": {"paymentType": "CARD",
                                                                                "cardNo": "4242424242424242"}}),
        "orders": refused("GET", "/orders/{orderId}", 404, "ORDER_NOT_FOUND", headers=buyer.auth,
                          path_params={"orderId": "ord_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        "payments": refused("POST", "/payments/{paymentId}/confirm", 404, "PAYMENT_NOT_FOUND", headers=buyer.auth,
                            path_params={"paymentId": "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        "profile": refused("GET", "/me/addresses/{addressId}", 404, "ADDRESS_NOT_FOUND", headers=buyer.auth,
                           path_params={"addressId": "adr_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        "wishlist": refused("PUT", "/wishlist/items/{itemId}", 404, "ITEM_NOT_FOUND", headers=buyer.auth,
                            path_params={"itemId": unknown_item}),
        "recommendations": refused("GET", "/recommendations/home", 422, "VALIDATION_FAILED",
                                   headers={"X-Visitor-Id": "no spaces allowed"}),
        "notifications": refused("POST", "/notifications/{notificationId}/read", 404, "NOTIFICATION_NOT_FOUND",
                                 headers=buyer.auth,
                                 path_params={"notificationId": "20260101T000000000Z-00000000000000000000"}),
    }  # fmt: skip


# Answers every operation documents because they are given before any function runs (the edge, API Gateway).
BEFORE_ANY_FUNCTION = {"413", "429"}


def test_one_error_per_route_family_is_the_documented_error_body(tour: Tour) -> None:
    with_errors = {
        tag for operation in OPERATIONS for tag in documented(operation).get("tags", [])
        if any(not code.startswith("2") for code in set(documented(operation)["responses"]) - BEFORE_ANY_FUNCTION)
    }  # fmt: skip
    errors = _errors(tour)
    assert set(errors) == with_errors, "every route family that documents errors has one here"
    for family, (operation, response, status, code) in errors.items():
        assert (response.status_code, error_code(response)) == (status, code), f"{family}: {response.text}"
        assert schema_errors(operation, response) == [], family
