"""The edge the local gateway plays for the template's CloudFront distribution and web ACL, over real HTTP
on a cloud of the real template with low limits: per-client rate limits (a signed-in caller by its token's
`sub`, everyone by the TCP peer), the body limit before any function, and the security headers on every kind
of response. Each test calls from its own loopback address, so that its buckets are its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shop.http import MAX_BODY_BYTES, SECURITY_HEADERS
from tests.conftest import Stack, _local_stack, local_cloud
from tests.support.users import register

# RateLimitWindowSeconds=600: a bucket gains one token per 600/limit seconds, far slower than a test runs.
SENSITIVE, CLIENT, ADDRESS = 10, 10, 40
OVERRIDES = [
    "EnableDiagnostics=true", "RateLimitWindowSeconds=600", f"SensitiveRateLimit={SENSITIVE}",
    f"ClientRateLimit={CLIENT}", f"AddressRateLimit={ADDRESS}",
]  # fmt: skip


@pytest.fixture(scope="module")
def edge_stack(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[Stack]:
    if not stack.local:
        pytest.skip("needs a local cloud with low edge limits")
    cloud = local_cloud(tmp_path_factory, "edge", overrides=OVERRIDES)
    try:
        yield _local_stack(cloud)
    finally:
        cloud.stop()


def client_from(stack: Stack, address: str) -> httpx.Client:
    """A client with its own source address: its own buckets at the edge."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=stack.api_url, transport=transport, timeout=30)


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    assert int(response.headers["retry-after"]) >= 1


def test_two_users_on_one_address_have_independent_buckets(edge_stack):
    with client_from(edge_stack, "127.0.0.31") as client:
        alice, bob = register(client, "buyer"), register(client, "buyer")
        statuses = [client.get("/cart", headers=alice.auth).status_code for _ in range(CLIENT)]
        assert 429 not in statuses
        assert_too_many(client.get("/cart", headers=alice.auth))
        # A fresh token of the same user is the same caller: the bucket is the token's `sub`.
        again = client.post("/auth/login", json={"email": alice.email, "password": alice.password}).json()
        assert_too_many(client.get("/cart", headers={"Authorization": f"Bearer {again['accessToken']}"}))
        assert client.get("/cart", headers=bob.auth).status_code == 200  # same address, another user


def test_anonymous_callers_are_keyed_on_the_peer_not_on_forwarded_headers(edge_stack):
    with client_from(edge_stack, "127.0.0.32") as noisy, client_from(edge_stack, "127.0.0.33") as quiet:
        statuses = [
            noisy.get("/_diagnostics/noop", headers={"X-Forwarded-For": f"10.1.0.{n}"}).status_code
            for n in range(ADDRESS)
        ]
        assert statuses == [200] * ADDRESS
        assert_too_many(noisy.get("/_diagnostics/noop", headers={"X-Forwarded-For": "10.1.1.1"}))
        assert quiet.get("/_diagnostics/noop").status_code == 200


def test_login_register_and_checkout_share_a_lower_limit_per_address(edge_stack):
    with client_from(edge_stack, "127.0.0.34") as client:
        wrong = {"email": "nobody@example.com", "password": "Wrong-Password-1"}
        statuses = [client.post("/auth/login", json=wrong).status_code for _ in range(SENSITIVE)]
        assert 429 not in statuses
        assert_too_many(client.post("/auth/register", json={}))
        assert_too_many(client.post("/checkout", json={}))
        assert client.get("/_diagnostics/noop").status_code == 200  # other routes keep the address limit


def _oversize_body(client: httpx.Client) -> httpx.Response:
    body = b'{"email": "' + b"a" * MAX_BODY_BYTES + b'"}'
    return client.post("/auth/login", content=body, headers={"content-type": "application/json"})


def test_an_oversize_body_is_refused_before_any_function_runs(edge_stack):
    log = edge_stack.log_dir / "UsersFunction.log"
    with client_from(edge_stack, "127.0.0.35") as client:
        assert client.post("/auth/login", json={}).status_code == 422  # the function runs for a body that fits
        before = log.read_text()
        refused = _oversize_body(client)

        def chunks() -> Iterator[bytes]:  # no Content-Length: measured as it arrives
            yield b'{"email": "'
            for _ in range(MAX_BODY_BYTES // 1024 + 1):
                yield b"a" * 1024

        streamed = client.post("/auth/login", content=chunks(), headers={"content-type": "application/json"})
        assert client.post("/auth/login", json={}).status_code == 422
    for response in (refused, streamed):
        assert response.status_code == 413  # the function's own refusal would be 400 PAYLOAD_TOO_LARGE
        assert response.json()["error"] == {
            "code": "PAYLOAD_TOO_LARGE",
            "message": f"the request body must not exceed {MAX_BODY_BYTES} bytes",
            "details": {"maxBytes": MAX_BODY_BYTES},
        }
    assert log.read_text()[len(before) :].count("START RequestId") == 1  # only the last request's


def _exhausted(client: httpx.Client) -> httpx.Response:
    for _ in range(SENSITIVE):
        client.post("/auth/login", json={})
    return client.post("/auth/login", json={})


@pytest.mark.parametrize(
    ("address", "make", "status"),
    [
        ("127.0.0.41", lambda c: c.get("/_diagnostics/noop"), 200),  # a function's success
        ("127.0.0.42", lambda c: c.get("/items/no-such-item"), 404),  # a function's error
        ("127.0.0.43", lambda c: c.post("/auth/login", json={}), 422),  # refused by the function's validation
        ("127.0.0.44", lambda c: c.get("/cart"), 401),  # the gateway's authorizer
        ("127.0.0.45", lambda c: c.get("/no/such/route"), 404),  # the gateway: no route
        ("127.0.0.46", _oversize_body, 413),  # the edge: body limit
        ("127.0.0.47", _exhausted, 429),  # the edge: rate limit
        ("127.0.0.48", lambda c: c.get("/_diagnostics/raise"), 500),  # the gateway: the function crashed
    ],
    ids=["function-200", "function-404", "function-422", "gateway-401", "gateway-404", "edge-413", "edge-429",
         "gateway-500"],
)  # fmt: skip
def test_every_kind_of_response_carries_the_security_headers(edge_stack, address, make, status):
    with client_from(edge_stack, address) as client:
        response = make(client)
    assert response.status_code == status, response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


