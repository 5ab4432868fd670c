"""From what the shopper typed to engine-neutral words (shop.search.port.Word).

Each word may match, in order of weight: exactly in a field, as one of its synonyms, as a prefix (the last
word only, while it is still being typed), or within an edit distance scaled by its length. Field boosts
rank name > brand > tags > description. The best way a word matched is what it scores.
"""

from __future__ import annotations

from shop.search.port import Clause, MatchKind, Word
from shop.search.synonyms import Phrase, Synonyms, synonyms
from shop.search.text import fuzzy_distance, tokens

FIELD_BOOSTS: dict[str, float] = {"name": 10.0, "brand": 6.0, "tags": 4.0, "description": 2.0}
KIND_WEIGHTS: dict[MatchKind, float] = {"term": 1.0, "prefix": 0.7, "fuzzy": 0.5}
SYNONYM_WEIGHT = 0.8
MIN_PREFIX_CHARS = 2
MAX_WORDS = 8  # longer queries keep their first words: every word is a clause per field


def build_words(text: str, *, prefix_last: bool = True, fields: dict[str, float] | None = None,
                table: Synonyms | None = None) -> tuple[Word, ...]:  # fmt: skip
    table = table or synonyms()
    boosts = fields or FIELD_BOOSTS
    found = tokens(text)[: MAX_WORDS * 2]
    phrases: list[Phrase] = []
    index = 0
    while index < len(found):
        # The longest synonym phrase starting here wins ("running shoes" before "running").
        for length in range(min(table.longest, len(found) - index), 0, -1):
            phrase = tuple(found[index : index + length])
            if length == 1 or phrase in table.groups:
                phrases.append(phrase)
                index += length
                break
    phrases = phrases[:MAX_WORDS]
    words: list[Word] = []
    for position, phrase in enumerate(phrases):
        is_last = position == len(phrases) - 1
        words.append(_word(phrase, table, boosts, prefix=prefix_last and is_last))
    return tuple(words)


def _word(phrase: Phrase, table: Synonyms, boosts: dict[str, float], *, prefix: bool) -> Word:
    clauses: list[Clause] = []
    alternatives = table.alternatives(phrase)
    for field, boost in boosts.items():
        clauses.append(Clause(field, phrase, "term", boost))
        clauses += [Clause(field, other, "term", boost * SYNONYM_WEIGHT) for other in alternatives[1:]]
    if len(phrase) == 1:
        token = phrase[0]
        if prefix and len(token) >= MIN_PREFIX_CHARS:
            clauses += [Clause(f, phrase, "prefix", b * KIND_WEIGHTS["prefix"]) for f, b in boosts.items()]
        distance = fuzzy_distance(token)
        if distance:
            clauses += [Clause(f, phrase, "fuzzy", b * KIND_WEIGHTS["fuzzy"], distance) for f, b in boosts.items()]
    return Word(tuple(clauses))
