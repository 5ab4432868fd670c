"""How text becomes terms, the same way tantivy's "default" tokenizer does it (and OpenSearch's shop_text).

Split on anything that is not a letter or digit, lower-case, drop tokens longer than 40 characters. The
service tokenizes queries itself so that synonyms, fuzziness and prefixes are decided once, here, and both
engines receive the same term-level queries.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+")
MAX_TOKEN_CHARS = 40


def tokens(text: str) -> list[str]:
    return [token for token in _TOKEN.findall(text.lower()) if len(token) <= MAX_TOKEN_CHARS]


def fuzzy_distance(token: str) -> int:
    """Typo tolerance scaled by word length: none up to 3 letters, 1 up to 7, 2 from 8."""
    if len(token) <= 3 or token.isdigit():
        return 0
    return 1 if len(token) <= 7 else 2
