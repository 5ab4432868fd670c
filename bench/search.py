"""Search, engine level: the tantivy index the search function reads, on N synthetic items.

    BENCH_SEARCH_ITEMS=200000 python -m bench.search

- indexing: documents built as the indexer builds them, written in batches of BATCH with one commit
  each (the indexer commits once per stream batch); rate, index size on disk, peak RSS of the process.
- queries through shop.search.service (as GET /items answers them, facets and total included): a
  two-word query, a query with typos, a filtered query sorted by price, and suggest; p50 / p99.
- searchable after a write: upsert one item, commit, reload, until a search finds it.
- baseline, same items, same run: a Python scan over the same documents with a substring match of every
  query word on name + brand + tags + description (what a table Scan + contains does, minus the network).
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "layers" / "shop" / "python", ROOT / "scripts"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from generate_items import items  # noqa: E402

from shop.search import service  # noqa: E402
from shop.search.port import Document, Filters  # noqa: E402
from shop.search.tantivy_engine import TantivyEngine  # noqa: E402

DEFAULT_ITEMS = 200_000
BASELINE_MAX_ITEMS = 100_000
BATCH = 5_000
QUERIES = 200
BASELINE_QUERIES = 5
KEY = b"bench"
TARGET_P99_MS = 10.0
TARGET_SEARCHABLE_MS = 250.0
TARGET_RSS_MIB = 1024.0
KINDS = {
    "two words": {"term": "wireless headphones"},
    "typos": {"term": "wireles headphnes"},
    "filtered, by price": {
        "term": "headphones",
        "filters": Filters(category="Electronics", in_stock=True, max_price=20000),
        "sort": "price_asc",
    },
}


def _documents(count: int) -> Iterator[Document]:
    created = "2024-01-01T00:00:00.000Z"
    for n, body in enumerate(items(count, seed=42), start=1):
        item_id = f"itm_{n:09d}"
        item = {**body, "itemId": item_id, "currency": "USD", "status": "ACTIVE", "images": [],
                "createdAt": created[:11] + f"{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
                "updatedAt": created}  # fmt: skip
        stock = {"default": [body["quantity"], created]}
        yield Document(item_id, n, True, 1, {"item": item, "stock": stock, "removed": False})


def _batches(count: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for document in _documents(count):
        batch.append(document)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time_ms(call: object, runs: int) -> list[float]:
    assert callable(call)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _scan(documents: list[Document], words: list[str]) -> int:
    found = 0
    for document in documents:
        item = document.state["item"]
        text = " ".join([item["name"], item.get("brand") or "", " ".join(item["tags"]), item["description"]]).lower()
        if all(word in text for word in words):
            found += 1
    return found


def run(workdir: Path, repeats: int) -> list[str]:
    count = int(os.environ.get("BENCH_SEARCH_ITEMS") or DEFAULT_ITEMS)
    engine = TantivyEngine(workdir / "search-index")
    start = time.perf_counter()
    for batch in _batches(count):
        engine.upsert(batch)
        engine.commit()
    indexing_s = time.perf_counter() - start
    size_mib = engine.size_bytes() / 2**20
    rows: list[tuple[str, float, float]] = []
    for name, kwargs in KINDS.items():
        service.search_items(engine, cursor_key=KEY, **kwargs)  # type: ignore[arg-type]
        runs = [_time_ms(lambda kw=kwargs: service.search_items(engine, cursor_key=KEY, **kw), QUERIES)
                for _ in range(max(1, repeats))]  # type: ignore[misc]  # fmt: skip
        samples = sorted(runs, key=statistics.median)[len(runs) // 2]
        rows.append((name, statistics.median(samples), _percentile(samples, 0.99)))
    suggest = _time_ms(lambda: service.suggest(engine, "wireless headph"), QUERIES)
    rows.append(("suggest", statistics.median(suggest), _percentile(suggest, 0.99)))
    fresh = []
    for n in range(20):
        document = Document(f"itm_fresh_{n}", count + n + 1, True, 1,
                            {"item": {"itemId": f"itm_fresh_{n}", "name": f"Zyxwv{n} Gadget", "price": 100,
                                      "createdAt": "2025-01-01T00:00:00.000Z", "tags": []}})  # fmt: skip
        start = time.perf_counter()
        engine.upsert([document])
        engine.commit()
        while not service.search_items(engine, term=f"zyxwv{n}", cursor_key=KEY)["items"]:
            engine.refresh()
        fresh.append((time.perf_counter() - start) * 1000)
    rss = _rss_mib()  # before the baseline loads its documents
    engine.close()
    baseline_count = min(count, BASELINE_MAX_ITEMS)
    documents = list(_documents(baseline_count))
    gc.collect()
    gc.freeze()  # a full collection pass over these would land inside the timings
    scan = _time_ms(lambda: _scan(documents, ["wireless", "headphones"]), BASELINE_QUERIES)
    worst_p99 = max(p99 for _, _, p99 in rows)
    fresh_p99 = _percentile(fresh, 0.99)
    lines = [
        "### Search",
        "",
        f"Engine level (tantivy {_tantivy_version()}), {count:,} synthetic items (scripts/generate_items.py, seed "
        f"42), one process, 2 cores. Command: `BENCH_SEARCH_ITEMS={count} .venv/bin/python -m bench.search`.",
        "",
        f"- indexing: {count / indexing_s:,.0f} items/s ({indexing_s:.1f} s, commits of {BATCH:,}); "
        f"index {size_mib:,.0f} MiB; peak RSS {rss:,.0f} MiB",
        f"- searchable after a write (upsert + commit + reload + found): p50 {statistics.median(fresh):.1f} ms, "
        f"p99 {fresh_p99:.1f} ms",
        "",
        "| query (with facets and total, as GET /items) | p50 ms | p99 ms |",
        "|---|---|---|",
        *[f"| {name} | {p50:.2f} | {p99:.2f} |" for name, p50, p99 in rows],
        f"| baseline: Python substring scan of the first {baseline_count:,} of these items, two words | "
        f"{statistics.median(scan):.1f} | {max(scan):.1f} (max of {BASELINE_QUERIES}) |",
        "",
        f"- p99 ≤ {TARGET_P99_MS:.0f} ms per query kind: {'met' if worst_p99 <= TARGET_P99_MS else 'NOT met'} at "
        f"{count:,} items (worst {worst_p99:.2f} ms); "
        f"the scan costs {statistics.median(scan) * count / baseline_count / max(0.001, rows[0][1]):,.0f}x the "
        f"engine's p50 on the same number of items (two words; the scan is linear in items)",
        f"- searchable ≤ {TARGET_SEARCHABLE_MS:.0f} ms after a write: "
        f"{'met' if fresh_p99 <= TARGET_SEARCHABLE_MS else 'NOT met'} (p99 {fresh_p99:.1f} ms)",
        f"- RSS ≤ {TARGET_RSS_MIB:.0f} MiB: {'met' if rss <= TARGET_RSS_MIB else 'NOT met'} ({rss:,.0f} MiB peak "
        "while indexing and querying, before the baseline loads its items)",
    ]
    return lines


def _tantivy_version() -> str:
    from importlib.metadata import version

    return version("tantivy")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print("\n".join(run(Path(directory), int(os.environ.get("BENCH_REPEATS") or 1))))
