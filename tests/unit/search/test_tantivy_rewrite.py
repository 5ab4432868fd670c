"""tantivy-specific: fuzzy and prefix clauses rewritten into terms (through the vocabulary documents and the
term dictionary) must match and score exactly as the automaton clauses they replace."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from shop.search import tantivy_engine
from shop.search.port import Document, Filters, SearchRequest
from shop.search.query import build_words
from shop.search.tantivy_engine import TantivyEngine

# Near neighbours on purpose: plurals, transpositions, one and two edits, shared prefixes.
WORDS = [
    "wireless", "wirelss", "wireles", "wirless", "headphones", "headphone", "headset", "heaphones", "mouse",
    "mouses", "muose", "house", "keyboard", "keybord", "keyboards", "key", "keys", "shoe", "shoes", "shoo",
    "running", "runing", "runner", "tv", "television", "telvision", "phone", "phones", "smartphone", "case",
]  # fmt: skip
QUERIES = [
    "wireless headphones", "wireles headphnes", "wirless", "headphone", "mouse", "muose keybord", "keyb", "key",
    "shoe", "runing shoe", "telvision", "phone case", "smartphon", "ho", "house keys", "zzzz", "wireless hea",
]  # fmt: skip


def _document(n: int, rng: random.Random) -> Document:
    def text(count: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(count))

    item = {
        "itemId": f"itm_{n}", "name": text(3).title(), "description": text(8), "tags": [text(1), text(1)],
        "brand": rng.choice(["Acme", "Keys", "Shoo", ""]), "price": 100 * n, "category": "Misc",
        "createdAt": "2024-01-01T00:00:00.000Z",
    }  # fmt: skip
    return Document(f"itm_{n}", n, True, 1, {"item": item, "stock": {"default": [1, "2024-01-01"]}})


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> TantivyEngine:
    rng = random.Random(7)  # noqa: S311  # a reproducible corpus, not a secret
    engine = TantivyEngine(tmp_path_factory.mktemp("rewrite"))
    for batch in range(3):  # several segments
        engine.upsert([_document(n, rng) for n in range(batch * 100 + 1, batch * 100 + 101)])
        engine.commit()
    return engine


def _scored(engine: TantivyEngine, term: str) -> list[tuple[float, int]]:
    searcher = engine.index.searcher()
    query = engine._base_query(searcher, build_words(term), Filters())
    hits = searcher.search(query, 1000, count=False).hits
    seqs = searcher.fast_field_values("seq", [address for _, address in hits])
    return sorted((round(float(score), 4), int(seq)) for (score, _), seq in zip(hits, seqs, strict=True))


@pytest.mark.parametrize("term", QUERIES)
def test_rewritten_clauses_match_and_score_as_automata(engine: TantivyEngine, term: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    rewritten = _scored(engine, term)
    monkeypatch.setattr(tantivy_engine, "MAX_EXPANSIONS", 0)  # every expansion "overflows": automata only
    assert rewritten == _scored(engine, term)


def test_a_typo_query_finds_plural_and_misspelt_listings(engine: TantivyEngine) -> None:
    assert len(_scored(engine, "headphone")) > len(_scored(engine, "headphone zzzz"))  # sanity: not all match
    request = SearchRequest(build_words("wirless"), Filters(), "relevance", 100, facets=True)
    result = engine.search(request)
    assert result.total and len(result.hits) == min(100, result.total)


def test_the_vocabulary_holds_each_word_once_and_survives_a_new_writer(tmp_path: Path) -> None:
    first = TantivyEngine(tmp_path)
    item = {"itemId": "itm_1", "name": "Wireless Mouse", "description": "a wireless mouse", "tags": ["Mouse"]}
    first.upsert([Document("itm_1", 1, True, 1, {"item": item})])
    first.commit()
    first.close()
    second = TantivyEngine(tmp_path)  # another process taking the writer: reads the vocabulary from the index
    second.upsert([Document("itm_2", 2, True, 1, {"item": {**item, "itemId": "itm_2", "name": "Mouse Pad"}})])
    second.commit()
    second.rollback()
    words = dict(second.index.searcher().terms_with_prefix(tantivy_engine.VOCAB_FIELD, ""))
    assert words == {"wireless": 1, "mouse": 1, "a": 1, "pad": 1}


def test_a_rolled_back_batch_leaves_no_word_behind(tmp_path: Path) -> None:
    engine = TantivyEngine(tmp_path)
    engine.upsert([Document("itm_1", 1, True, 1, {"item": {"itemId": "itm_1", "name": "Lamp"}})])
    engine.commit()
    engine.upsert([Document("itm_2", 2, True, 1, {"item": {"itemId": "itm_2", "name": "Sofa"}})])
    engine.rollback()
    engine.upsert([Document("itm_3", 3, True, 1, {"item": {"itemId": "itm_3", "name": "Sofa"}})])
    engine.commit()
    assert engine.search(SearchRequest(build_words("sofs"), Filters(), "relevance", 5)).hits[0].item["name"] == "Sofa"
    assert engine.next_seq() == 4  # vocabulary documents carry no seq
