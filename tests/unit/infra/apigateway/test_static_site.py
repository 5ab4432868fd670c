"""The storefront's files as the local gateway serves them (infra.apigateway.static): which requests are the
site's, content types, caching, revalidation, compression, and nothing outside the root."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from infra.apigateway.static import IMMUTABLE, REVALIDATE, StaticAnswer, StaticSite


@pytest.fixture
def site(tmp_path: Path) -> StaticSite:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>shop</title>")
    (root / "seller.html").write_text("<!doctype html><title>console</title>")
    (root / "assets" / "main-abc123.js").write_text("console.log('shop');" * 50)
    (tmp_path / "secret.txt").write_text("outside the root")
    return StaticSite(root, extra_sources=["http://127.0.0.1:4566"])


def _headers(answer: StaticAnswer) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in answer.headers}


@pytest.mark.parametrize(("path", "page"), [("/", "shop"), ("/shop/item/itm_1", "shop"), ("/shop/cart", "shop"),
                                            ("/seller", "console"), ("/index.html", "shop")])  # fmt: skip
def test_page_paths_answer_their_page_with_its_policy(site: StaticSite, path: str, page: str) -> None:
    answer = site.answer("GET", path, {})
    assert answer is not None and answer.status == 200
    assert f"<title>{page}</title>".encode() in answer.body
    headers = _headers(answer)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == REVALIDATE
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "connect-src 'self' http://127.0.0.1:4566" in policy


@pytest.mark.parametrize("path", ["/items", "/nothing/here", "/assets/missing.js", "/assets", "/../secret.txt",
                                  "/assets/../../secret.txt", "/shop"])  # fmt: skip
def test_anything_else_is_left_to_the_api(site: StaticSite, path: str) -> None:
    assert site.answer("GET", path, {}) is None


def test_only_reads_are_served(site: StaticSite) -> None:
    assert site.answer("POST", "/", {}) is None
    head = site.answer("HEAD", "/assets/main-abc123.js", {})
    assert head is not None and head.body == b""
    assert _headers(head)["content-length"] == str(len("console.log('shop');" * 50))


def test_hashed_assets_are_cached_for_a_year_and_pages_revalidate_with_their_etag(site: StaticSite) -> None:
    script = site.answer("GET", "/assets/main-abc123.js", {})
    assert script is not None
    assert _headers(script)["cache-control"] == IMMUTABLE
    assert _headers(script)["content-type"] == "text/javascript; charset=utf-8"
    page = site.answer("GET", "/", {})
    assert page is not None
    etag = _headers(page)["etag"]
    again = site.answer("GET", "/shop/cart", {"if-none-match": etag})
    assert again is not None and (again.status, again.body) == (304, b"")


def test_text_is_gzipped_for_a_client_that_accepts_it(site: StaticSite) -> None:
    answer = site.answer("GET", "/assets/main-abc123.js", {"accept-encoding": "gzip, br"})
    assert answer is not None
    assert _headers(answer)["content-encoding"] == "gzip"
    assert gzip.decompress(answer.body) == ("console.log('shop');" * 50).encode()
    assert int(_headers(answer)["content-length"]) == len(answer.body)


def test_an_unbuilt_site_serves_nothing(tmp_path: Path) -> None:
    empty = StaticSite(tmp_path / "dist")
    assert not empty.built
    assert empty.answer("GET", "/", {}) is None


def test_the_gateway_serves_the_site_only_where_no_route_answers(loop_thread, make_spec, endpoints, site) -> None:
    import httpx

    from infra.apigateway.gateway import create_gateway_app
    from infra.apigateway.models import HttpApiSpec, Route
    from infra.awslambda.workers import FunctionRuntime

    runtime = loop_thread.call(lambda: FunctionRuntime({"Fn": make_spec("gateway", name="Fn")}, endpoints))
    (site.root / "items").mkdir()
    (site.root / "items" / "42").write_text("a file a route shadows")
    spec = HttpApiSpec("HttpApi", "abc123", "$default", routes=[Route("GET", "/items/{itemId}", "Fn")])
    app = create_gateway_app(spec, runtime, endpoints, local_routes={}, static=site)
    try:
        with httpx.Client(base_url=loop_thread.serve(app), timeout=30) as client:
            page = client.get("/shop/cart", headers={"accept": "text/html"})
            assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
            assert client.get("/items/42").json()["routeKey"] == "GET /items/{itemId}"  # the route wins
            for accept in ("application/json", "text/html"):
                missing = client.get("/nothing/here", headers={"accept": accept})
                assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})
            assert client.post("/", content=b"{}").status_code == 404
    finally:
        loop_thread.run(runtime.close())
