"""The search service's environment (kept apart from shop.config, which requires the catalog tables:
search must start and answer even where it is given nothing but its index)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEFAULT_INDEX_DIR = str(Path(tempfile.gettempdir()) / "marketplace-search" / "default")
LOCAL_CURSOR_KEY = "local-only-search-cursor-key"


@dataclass(frozen=True)
class SearchSettings:
    index_dir: Path  # SEARCH_INDEX_DIR: the tantivy index
    opensearch_url: str | None  # OPENSEARCH_URL: use OpenSearch instead of tantivy
    opensearch_index: str  # OPENSEARCH_INDEX
    cursor_key: bytes  # SEARCH_CURSOR_KEY: signs page cursors


def load_search_settings(environ: Mapping[str, str]) -> SearchSettings:
    return SearchSettings(
        index_dir=Path(environ.get("SEARCH_INDEX_DIR") or DEFAULT_INDEX_DIR),
        opensearch_url=environ.get("OPENSEARCH_URL") or None,
        opensearch_index=environ.get("OPENSEARCH_INDEX") or "items",
        cursor_key=(environ.get("SEARCH_CURSOR_KEY") or LOCAL_CURSOR_KEY).encode(),
    )


@cache
def search_settings() -> SearchSettings:
    return load_search_settings(os.environ)
