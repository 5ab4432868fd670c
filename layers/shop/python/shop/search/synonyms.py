"""Versioned synonyms (synonyms.json next to this module), expanded at query time for every engine.

Entries may be several words ("running shoes"); a query matches an entry when its consecutive tokens do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shop.search.text import tokens

SYNONYMS_FILE = Path(__file__).with_name("synonyms.json")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Synonyms:
    version: int
    groups: dict[Phrase, tuple[Phrase, ...]]  # each phrase -> every phrase of its group (itself first)
    longest: int  # tokens in the longest phrase, so lookups know how far to look ahead

    def alternatives(self, phrase: Phrase) -> tuple[Phrase, ...]:
        return self.groups.get(phrase, (phrase,))


def parse(document: dict[str, object]) -> Synonyms:
    groups: dict[Phrase, tuple[Phrase, ...]] = {}
    raw_groups = document.get("groups")
    assert isinstance(raw_groups, list), "synonyms.json: groups must be a list"
    for group in raw_groups:
        phrases = [tuple(tokens(str(entry))) for entry in group]
        phrases = [phrase for phrase in dict.fromkeys(phrases) if phrase]
        for phrase in phrases:
            groups[phrase] = (phrase, *(other for other in phrases if other != phrase))
    version = document.get("version", 1)
    return Synonyms(int(version) if isinstance(version, int | str) else 1, groups, max(map(len, groups), default=1))


@cache
def synonyms() -> Synonyms:
    return parse(json.loads(SYNONYMS_FILE.read_text(encoding="utf-8")))
