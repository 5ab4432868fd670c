"""The storefront (web/): page weight of the build and time to first result of a search typed in a browser.

    BENCH_STOREFRONT_ITEMS=100000 python -m bench.storefront

- page weight: the JS and CSS each page loads (the files its HTML names), gzip level 9 (CloudFront and the
  local gateway compress), against the budget of 100 KB of JS gzip for the storefront.
- time to first result: a local cloud whose search index is loaded straight with BENCH_STOREFRONT_ITEMS
  synthetic items (as bench/search.py does), its gateway serving web/dist; headless Debian Chromium opens /,
  a query is typed into the search box and submitted, and the page's own Performance API measure
  `search-to-first-result` (from the submit to the first results in the page: the GET /items round trip,
  JSON parsing and rendering) is read; QUERIES submits per query, after WARMUP. Baseline, same run: the same
  GET /items from Python on a keep-alive client, which is the part of that time the browser cannot change.
"""

from __future__ import annotations

import gzip
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

import httpx

from bench.search import _batches
from bench.stats import percentile
from infra.launcher import ROOT, launch
from shop.search.tantivy_engine import TantivyEngine

WEB = ROOT / "web"
DIST = WEB / "dist"
JS_BUDGET_KB = 100.0
DEFAULT_ITEMS = 100_000
QUERIES = 30
WARMUP = 3
TYPED = ("wireless headphones", "headphnes", "leather wallet")
CHROMIUM = "/usr/bin/chromium"


def build() -> None:
    if not (WEB / "node_modules" / ".bin" / "vite").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True)


def page_weight(dist: Path = DIST) -> dict[str, dict[str, float]]:
    """Per page (index.html, seller.html): KB of JS and CSS it loads, raw and gzip."""
    weights: dict[str, dict[str, float]] = {}
    for page in sorted(dist.glob("*.html")):
        assets = set(re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', page.read_text()))
        weight = {"js": 0.0, "js_gzip": 0.0, "css": 0.0, "css_gzip": 0.0}
        for asset in assets:
            data = (dist / asset.lstrip("/")).read_bytes()
            kind = "js" if asset.endswith(".js") else "css"
            weight[kind] += len(data) / 1024
            weight[f"{kind}_gzip"] += len(gzip.compress(data, compresslevel=9)) / 1024
        weights[page.name] = weight
    return weights


def run(workdir: Path, repeats: int) -> list[str]:
    del repeats  # each query is submitted QUERIES times; the median is reported
    build()
    weights = page_weight()
    count = int(os.environ.get("BENCH_STOREFRONT_ITEMS") or DEFAULT_ITEMS)
    lines = ["### Storefront (bench/storefront.py)", "",
             "Page weight of `web/dist` (what each page's HTML loads; gzip level 9):", "",
             "| page | JS KB | JS gzip KB | CSS KB | CSS gzip KB |", "|---|---|---|---|---|"]  # fmt: skip
    for page, weight in weights.items():
        lines.append(f"| {page} | {weight['js']:.1f} | {weight['js_gzip']:.1f} | {weight['css']:.1f} | "
                     f"{weight['css_gzip']:.1f} |")  # fmt: skip
    store_js = weights["index.html"]["js_gzip"]
    verdict = "met" if store_js <= JS_BUDGET_KB else "NOT met"
    lines += ["", f"- storefront JS ≤ {JS_BUDGET_KB:.0f} KB gzip: {verdict} ({store_js:.1f} KB)", ""]
    lines += _first_result_lines(workdir, count)
    return lines


def _first_result_lines(workdir: Path, count: int) -> list[str]:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS

    began = time.perf_counter()
    overrides = ["ThrottlingRateLimit=1000000", "ThrottlingBurstLimit=1000000", "EdgeProtection=false",
                 f"SearchIndexDir={workdir / 'index'}"]  # fmt: skip
    cloud = launch(workdir / "cloud", overrides=overrides)
    try:
        ddb = cloud.client("dynamodb")
        stream_arn = ddb.describe_table(TableName=cloud.state["outputs"]["ItemsTableName"])["Table"]["LatestStreamArn"]
        index_dir = Path(cloud.state["parameters"]["SearchIndexDir"]) / cloud.state["stack"] / stream_arn.split("/")[3]
        engine = TantivyEngine(index_dir)  # before any item goes through the API: no indexer holds the writer
        for batch in _batches(count):
            engine.upsert(batch)
            engine.commit()
        engine.close()
        base = cloud.state["endpoints"]["api"].rstrip("/")
        rows: list[str] = []
        with httpx.Client(base_url=base, timeout=30) as api, sync_playwright() as playwright:
            total = api.get("/items").raise_for_status().json()["total"]
            if total != count:
                raise RuntimeError(f"GET /items sees {total} items, {count} were indexed")
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=base)
            for query in TYPED:
                browser_ms: list[float] = []
                for n in range(WARMUP + QUERIES):
                    page.goto("/")
                    page.wait_for_selector("text=items")  # the newest-first page has rendered
                    page.evaluate("() => performance.clearMeasures()")
                    box = page.get_by_role("combobox", name="Search")
                    box.fill(query)
                    box.press("Enter")
                    page.wait_for_function("() => performance.getEntriesByName('search-to-first-result').length > 0")
                    measured = page.evaluate("() => performance.getEntriesByName('search-to-first-result')[0].duration")
                    if n >= WARMUP:
                        browser_ms.append(float(measured))
                api_ms = []
                for n in range(WARMUP + QUERIES):
                    start = time.perf_counter()
                    api.get("/items", params={"term": query, "size": "24"}).raise_for_status()
                    if n >= WARMUP:
                        api_ms.append((time.perf_counter() - start) * 1000)
                rows.append(f"| “{query}” | {statistics.median(browser_ms):.1f} | {percentile(browser_ms, 0.99):.1f} | "
                            f"{statistics.median(api_ms):.1f} |")  # fmt: skip
            browser.close()
    finally:
        cloud.stop()
    return [f"Time to first result, {count:,} synthetic items (scripts/generate_items.py, seed 42) loaded straight "
            f"into the search index of a local cloud serving web/dist; headless Chromium {_chromium_version()}, "
            f"a query typed and submitted {QUERIES} times after {WARMUP} warm-up ones, read from the page's "
            f"Performance API (`search-to-first-result`: submit -> first results in the page); the whole part took "
            f"{time.perf_counter() - began:.0f} s. `BENCH_STOREFRONT_ITEMS={count}`.", "",
            "| query typed | browser p50 ms | browser p99 ms | baseline: the same GET /items from Python, p50 ms |",
            "|---|---|---|---|", *rows]  # fmt: skip


def _chromium_version() -> str:
    answer = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False).stdout.split()
    return answer[1] if len(answer) > 1 else "?"


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print("\n".join(run(Path(folder), 1)))
