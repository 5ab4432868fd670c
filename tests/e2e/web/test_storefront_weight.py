"""The storefront's build stays within its budget and loads nothing from elsewhere (sizes, not timings)."""

from __future__ import annotations

import re
from pathlib import Path

from bench.storefront import JS_BUDGET_KB, page_weight


def test_the_storefront_loads_at_most_100_kb_of_js_gzip(web_build: Path) -> None:
    weights = page_weight(web_build)
    assert set(weights) == {"index.html", "seller.html"}
    assert 0 < weights["index.html"]["js_gzip"] <= JS_BUDGET_KB, weights
    assert weights["index.html"]["css_gzip"] > 0


def test_the_pages_name_only_their_own_files(web_build: Path) -> None:
    for page in web_build.glob("*.html"):
        references = re.findall(r'(?:src|href)="([^"]+)"', page.read_text())
        outside = [ref for ref in references if not ref.startswith(("/assets/", "#", "data:"))]
        assert not outside, f"{page.name} names {outside}"
        for ref in references:
            if ref.startswith("/assets/"):
                assert (web_build / ref.lstrip("/")).is_file(), ref
