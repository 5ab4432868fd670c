"""The search service's environment (kept apart from shop.config, which requires the catalog tables:
search must start and answer even where it is given nothing but its index)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aws_lambda_powertools.utilities import parameters

DEFAULT_INDEX_DIR = str(Path(tempfile.gettempdir()) / "marketplace-search" / "default")
CURSOR_KEY_MAX_AGE_SECONDS = 3600


@dataclass(frozen=True)
class SearchSettings:
    index_dir: Path  # SEARCH_INDEX_DIR: the tantivy index
    opensearch_url: str | None  # OPENSEARCH_URL: use OpenSearch instead of tantivy
    opensearch_index: str  # OPENSEARCH_INDEX
    cursor_key_secret_arn: str | None  # SEARCH_CURSOR_KEY_SECRET_ARN: the secret that signs page cursors


def load_search_settings(environ: Mapping[str, str]) -> SearchSettings:
    return SearchSettings(
        index_dir=Path(environ.get("SEARCH_INDEX_DIR") or DEFAULT_INDEX_DIR),
        opensearch_url=environ.get("OPENSEARCH_URL") or None,
        opensearch_index=environ.get("OPENSEARCH_INDEX") or "items",
        cursor_key_secret_arn=environ.get("SEARCH_CURSOR_KEY_SECRET_ARN") or None,
    )


@cache
def search_settings() -> SearchSettings:
    return load_search_settings(os.environ)


def cursor_key() -> bytes:
    """The key page cursors are signed with: SearchCursorKeySecret (template.yaml), read through powertools
    parameters and cached for an hour.

    There is no default key: one that ships with the code signs cursors anybody can forge. Without a secret
    (a process outside any stack, such as a benchmark) the key is random for this process, so its cursors
    simply stop working elsewhere.
    """
    arn = search_settings().cursor_key_secret_arn
    if arn is None:
        return _process_key()
    value = parameters.get_secret(arn, max_age=CURSOR_KEY_MAX_AGE_SECONDS)
    return value.encode() if isinstance(value, str) else bytes(value)


@cache
def _process_key() -> bytes:
    return secrets.token_bytes(32)
