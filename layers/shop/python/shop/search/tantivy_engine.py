"""The embedded engine: a tantivy index on disk (SEARCH_INDEX_DIR), one writer process, many readers.

Writer: tantivy allows one IndexWriter per index directory (a lock file). The writing process takes it
on its first write (retrying for WRITER_WAIT_S while another process holds it) and keeps it until
close(). The template gives the indexer ReservedConcurrentExecutions 1, so one process writes.
Readers reload when meta.json (rewritten by every commit) changes, checked at most every RELOAD_CHECK_S.

tantivy has no search_after: every sort is on one unsigned fast field that is unique per document
(price << 30 | seq, created second << 30 | seq), and the next page is a range query strictly past the
cursor's key. Relevance (constant scores, see shop.search.port) breaks ties by seq, newest first; pages
after the first skip past (score, seq) within a window of hits that grows until the boundary is exact.

Fuzzy and prefix clauses are rewritten into the terms they match before the query runs, as Lucene rewrites
its fuzzy and prefix queries: tantivy runs an automaton clause by collecting every posting of every term it
matches into a bitset, once per field, so "wireless" fuzzy in four fields read the postings of "wireless"
eight times (the exact clauses read them too). Prefixes expand through the term dictionary; fuzzy words
through vocabulary documents, one per distinct word of the text fields (field `vocab`, hidden from every
item query because they carry no `visible`), which the writer adds as new words arrive. Each (field, term)
then appears once in a word's dis_max, with the best boost any clause gives it: the same scores and matches
as the automaton clauses (words of deleted items stay in the vocabulary and expand to terms that match
nothing). Past MAX_EXPANSIONS terms a clause stays an automaton.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import tantivy

from shop.clock import parse_iso
from shop.search.documents import available, summary
from shop.search.port import PRICE_RANGES, Clause, Document, Filters, Hit, SearchRequest, SearchResult, Word

log = logging.getLogger("shop.search.tantivy")

SEQ_BITS = 30  # up to a billion items per index
SEQ_MASK = (1 << SEQ_BITS) - 1
RELOAD_CHECK_S = 0.05
WRITER_HEAP_BYTES = 64_000_000
WRITER_WAIT_S = 20.0
MAX_RELEVANCE_WINDOW = 20_000
FIRST_RELEVANCE_WINDOW = 256  # loading a hit costs ~2 us; running the query again costs milliseconds
MAX_FULL_WINDOW = 2_000
MAX_EXPANSIONS = 64  # terms a fuzzy or prefix clause may rewrite into (OpenSearch's max_expansions is 50)
VOCAB_FIELD = "vocab"
TEXT_FIELDS = ("name", "brand", "tags", "description")
SORT_FIELDS = {"price_asc": ("price_key", True), "price_desc": ("price_key", False), "newest": ("new_key", False)}


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, index_option="basic")
    for name in ("category", "brand"):
        builder.add_text_field(f"{name}_key", tokenizer_name="raw", index_option="basic")  # lower-cased filter
        builder.add_text_field(f"{name}_facet", tokenizer_name="raw", fast=True, index_option="basic")
    for name in ("price", "available", "visible", "price_key", "new_key"):
        builder.add_unsigned_field(name, indexed=True, fast=True)
    builder.add_unsigned_field("seq", indexed=True, fast=True)  # relevance ties: read for every tied hit
    builder.add_bytes_field("state", stored=True)  # the Document as JSON
    builder.add_text_field(VOCAB_FIELD, stored=True, tokenizer_name="raw", index_option="basic")
    return builder.build()


def _analyzer() -> tantivy.TextAnalyzer:
    """tantivy's "default" tokenizer, which the text fields use: the vocabulary holds exactly their terms."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    return builder.filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase()).build()


def _has_field(schema: tantivy.Schema, name: str) -> bool:
    try:
        tantivy.Query.term_query(schema, name, "")
    except ValueError:
        return False
    return True


class WriterBusyError(RuntimeError):
    """Another process kept the index's writer lock for longer than WRITER_WAIT_S."""


class TantivyEngine:
    name = "tantivy"

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.index = self._open()
        self.schema = self.index.schema  # an older index's own field ids, should ours have changed
        self._meta = self.directory / "meta.json"
        self._meta_stamp = self._stamp()
        self._checked = time.monotonic()
        self._writer: Any = None
        self._max_seq: int | None = None
        # An index created before the vocabulary existed keeps working, with automaton clauses.
        self._has_vocabulary = _has_field(self.schema, VOCAB_FIELD)
        self._vocabulary: set[str] | None = None  # the writer's copy of the vocabulary documents
        self._analyzer = _analyzer()

    def _open(self) -> tantivy.Index:
        if tantivy.Index.exists(str(self.directory)):
            return tantivy.Index.open(str(self.directory))
        try:
            return tantivy.Index(_schema(), path=str(self.directory), reuse=True)
        except ValueError:  # created by another process in between
            return tantivy.Index.open(str(self.directory))

    # ------------------------------------------------------------------ reading
    def _stamp(self) -> int:
        try:
            return self._meta.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def _searcher(self) -> tantivy.Searcher:
        now = time.monotonic()
        if now - self._checked >= RELOAD_CHECK_S:
            self._checked = now
            stamp = self._stamp()
            if stamp != self._meta_stamp:
                self._meta_stamp = stamp
                self._reopen()
        return self.index.searcher()

    def refresh(self) -> None:
        """See the latest commit now (tests and the writer's own reads)."""
        self._meta_stamp = self._stamp()
        self._reopen()

    def _reopen(self) -> None:
        self.index.reload()

    def get(self, item_ids: Iterable[str]) -> dict[str, Document]:
        searcher = self._searcher()
        found: dict[str, Document] = {}
        for item_id in item_ids:
            result = searcher.search(tantivy.Query.term_query(self.schema, "id", item_id), 1, count=False)
            if result.hits:
                found[item_id] = _load(searcher.doc(result.hits[0][1]))
        return found

    def next_seq(self) -> int:
        self._take_writer()  # seqs are allocated under the writer lock, so two writers never share one
        if self._max_seq is None:
            result = self._searcher().search(tantivy.Query.all_query(), 1, count=False, order_by_field="seq")
            # Vocabulary documents have no seq and sort last.
            self._max_seq = int(result.hits[0][0]) if result.hits and result.hits[0][0] is not None else 0
        self._max_seq += 1
        return self._max_seq

    # ------------------------------------------------------------------ writing
    def upsert(self, documents: Sequence[Document]) -> None:
        writer = self._take_writer()
        for document in documents:
            writer.delete_documents_by_term("id", document.item_id)
            writer.add_document(self._tantivy_doc(document))
            if self._has_vocabulary:
                for word in self._new_words(document):
                    vocabulary_doc = tantivy.Document()
                    vocabulary_doc.add_text(VOCAB_FIELD, word)
                    writer.add_document(vocabulary_doc)

    def _new_words(self, document: Document) -> set[str]:
        if self._vocabulary is None:
            self._vocabulary = {term for term, _ in self._searcher().terms_with_prefix(VOCAB_FIELD, "")}
        words: set[str] = set()
        for _, text in _field_texts(document):
            words.update(self._analyzer.analyze(text))
        words -= self._vocabulary
        self._vocabulary |= words
        return words

    def commit(self) -> None:
        if self._writer is None:
            return
        try:
            self._writer.commit()
        except BaseException:
            self._release_writer()
            raise
        self.refresh()

    def rollback(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._release_writer()
            self._max_seq = None
            self._vocabulary = None  # may name words whose documents were rolled back

    def _take_writer(self) -> Any:
        if self._writer is None:
            deadline = time.monotonic() + WRITER_WAIT_S
            delay = 0.005
            while True:
                try:
                    self._writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
                    break
                except ValueError as error:
                    if "LockBusy" not in str(error) or time.monotonic() > deadline:
                        raise WriterBusyError(f"the writer of {self.directory} is held elsewhere: {error}") from error
                    time.sleep(delay)
                    delay = min(delay * 2, 0.2)
            self.refresh()
            self._max_seq = None  # another process may have written since
            self._vocabulary = None
        return self._writer

    def _release_writer(self) -> None:
        writer, self._writer = self._writer, None
        # Finishing the merges explicitly (instead of leaving it to the writer's destructor) releases the
        # lock file deterministically and never runs merge clean-up under the garbage collector.
        writer.wait_merging_threads()

    def _tantivy_doc(self, document: Document) -> tantivy.Document:
        item = document.state.get("item", {})
        doc = tantivy.Document()
        doc.add_text("id", document.item_id)
        for field, text in _field_texts(document):
            doc.add_text(field, text)
        for name in ("category", "brand"):
            value = item.get(name)
            if value:
                doc.add_text(f"{name}_key", str(value).lower())
                doc.add_text(f"{name}_facet", str(value))
        price = max(0, int(item.get("price") or 0))
        seq = document.seq & SEQ_MASK
        doc.add_unsigned("price", price)
        doc.add_unsigned("available", available(document))
        doc.add_unsigned("visible", 1 if document.visible else 0)
        doc.add_unsigned("seq", document.seq)
        doc.add_unsigned("price_key", (price << SEQ_BITS) | seq)
        doc.add_unsigned("new_key", (_epoch_seconds(item.get("createdAt")) << SEQ_BITS) | seq)
        doc.add_bytes("state", json.dumps(_dump(document), separators=(",", ":")).encode())
        return doc

    # ------------------------------------------------------------------ searching
    def search(self, request: SearchRequest) -> SearchResult:
        searcher = self._searcher()
        base = self._base_query(searcher, request.words, request.filters)
        total, facets = None, None
        if request.facets:
            facets, total = self._facets(searcher, base)
        if request.sort == "relevance" and request.words:
            hits, more = self._by_relevance(searcher, base, request, total)
        else:
            hits, more = self._by_key(searcher, base, request)
        return SearchResult(hits=hits, total=total, facets=facets, has_more=more)

    def _by_key(
        self, searcher: tantivy.Searcher, base: tantivy.Query, request: SearchRequest
    ) -> tuple[list[Hit], bool]:
        field, ascending = SORT_FIELDS.get(request.sort, SORT_FIELDS["newest"])
        query = base
        if request.after:
            key = int(request.after[0])
            unsigned = tantivy.FieldType.Unsigned
            bound = (
                tantivy.Query.range_query(self.schema, field, unsigned, key, None, include_lower=False)
                if ascending
                else tantivy.Query.range_query(self.schema, field, unsigned, None, key, include_upper=False)
            )
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, base), (tantivy.Occur.Must, bound)])
        order = tantivy.Order.Asc if ascending else tantivy.Order.Desc
        result = searcher.search(query, request.size + 1, count=False, order_by_field=field, order=order)
        rows = result.hits[: request.size]
        hits = [Hit(summary(_load(searcher.doc(address))), (int(key),)) for key, address in rows]
        return hits, len(result.hits) > request.size

    def _by_relevance(self, searcher: tantivy.Searcher, base: tantivy.Query, request: SearchRequest,
                      total: int | None = None) -> tuple[list[Hit], bool]:  # fmt: skip
        after = (float(request.after[0]), int(request.after[1])) if request.after else None
        window = max(FIRST_RELEVANCE_WINDOW, (request.size + 1) * 2)
        if total is not None and total < MAX_FULL_WINDOW:
            window = max(window, total + 1)  # the facets counted the matches: one search fetches them all
        while True:
            result = searcher.search(base, window, count=False)
            complete = len(result.hits) < window
            addresses = [address for _, address in result.hits]
            seqs = searcher.fast_field_values("seq", addresses)
            # Scores are discrete: only the lowest level fetched may be cut off by the window.
            cut_level = None if complete else float(result.hits[-1][0])
            needed = request.size + 1
            keyed = []
            for (raw_score, address), seq in zip(result.hits, seqs, strict=True):
                score = float(raw_score)
                if after is not None and (score, seq) >= after:
                    continue  # ranks before the cursor (or is its last hit)
                keyed.append((score, int(seq or 0), address))
            keyed.sort(key=lambda row: (-row[0], -row[1]))
            exact = complete or (len(keyed) >= needed and keyed[needed - 1][0] != cut_level)
            if exact or window >= MAX_RELEVANCE_WINDOW:
                page = keyed[: request.size]
                hits = [Hit(summary(_load(searcher.doc(address))), (score, seq)) for score, seq, address in page]
                return hits, len(keyed) > request.size
            window *= 4

    def _facets(self, searcher: tantivy.Searcher, base: tantivy.Query) -> tuple[dict[str, list[dict[str, Any]]], int]:
        ranges = [{k: v for k, v in (("from", low), ("to", high)) if v is not None} for low, high in PRICE_RANGES]
        aggs = {
            "category": {"terms": {"field": "category_facet", "size": 20}},
            "brand": {"terms": {"field": "brand_facet", "size": 20}},
            "price": {"range": {"field": "price", "ranges": ranges}},
        }
        raw = searcher.aggregate(base, aggs)
        return facets_from_aggregations(raw)

    def _base_query(self, searcher: tantivy.Searcher, words: Sequence[Word], filters: Filters) -> tantivy.Query:
        # Filters must not score: a term query scores by BM25, whose idf moves with every document added,
        # so a relevance cursor's (score, seq) would stop matching the same document's score one commit
        # later and paging would start over (an endless loop, once mistaken for a commit deadlock).
        conditions: list[tuple[tantivy.Occur, tantivy.Query]] = [(tantivy.Occur.Must, self._term("visible", 1))]
        if filters.category:
            conditions.append((tantivy.Occur.Must, self._term("category_key", filters.category.lower())))
        if filters.brand:
            conditions.append((tantivy.Occur.Must, self._term("brand_key", filters.brand.lower())))
        if filters.min_price is not None or filters.max_price is not None:
            conditions.append((tantivy.Occur.Must, tantivy.Query.range_query(
                self.schema, "price", tantivy.FieldType.Unsigned, filters.min_price, filters.max_price)))  # fmt: skip
        if filters.in_stock is not None:
            in_stock = tantivy.Query.range_query(self.schema, "available", tantivy.FieldType.Unsigned, 1, None)
            conditions.append((tantivy.Occur.Must if filters.in_stock else tantivy.Occur.MustNot, in_stock))
        must = [(tantivy.Occur.Must, tantivy.Query.const_score_query(tantivy.Query.boolean_query(conditions), 0.0))]
        for word in words:
            must.append((tantivy.Occur.Must, self._word_query(searcher, word)))
        return tantivy.Query.boolean_query(must)

    def _word_query(self, searcher: tantivy.Searcher, word: Word) -> tantivy.Query:
        """The dis_max of a word's clauses, with fuzzy and prefix clauses rewritten into terms where possible."""
        boosts: dict[tuple[str, str], float] = {}  # (field, term) -> the best boost of any clause matching it
        automata: list[tantivy.Query] = []
        fuzzy_expansions: dict[tuple[str, int], list[str] | None] = {}
        for clause in word.clauses:
            if len(clause.terms) > 1:  # a multi-word synonym: all its terms, in one field
                automata.append(tantivy.Query.const_score_query(self._clause(clause), clause.boost))
                continue
            term = clause.terms[0]
            if clause.kind == "term":
                terms: list[str] | None = [term]
            elif clause.kind == "prefix":
                terms = self._prefix_terms(searcher, clause.field, term)
            else:
                key = (term, clause.distance)
                if key not in fuzzy_expansions:  # the same for every field: the vocabulary spans them all
                    fuzzy_expansions[key] = self._fuzzy_terms(searcher, term, clause.distance)
                terms = fuzzy_expansions[key]
            if terms is None:
                automata.append(tantivy.Query.const_score_query(self._clause(clause), clause.boost))
                continue
            for found in terms:
                if boosts.get((clause.field, found), -1.0) < clause.boost:
                    boosts[(clause.field, found)] = clause.boost
        alternatives = [
            tantivy.Query.const_score_query(self._term(field, term), boost) for (field, term), boost in boosts.items()
        ]
        alternatives += automata
        if not alternatives:
            return tantivy.Query.empty_query()
        return tantivy.Query.disjunction_max_query(alternatives)

    def _prefix_terms(self, searcher: tantivy.Searcher, field: str, prefix: str) -> list[str] | None:
        found = searcher.terms_with_prefix(field, prefix, limit=MAX_EXPANSIONS + 1)
        return None if len(found) > MAX_EXPANSIONS else [term for term, _ in found]

    def _fuzzy_terms(self, searcher: tantivy.Searcher, term: str, distance: int) -> list[str] | None:
        if not self._has_vocabulary:
            return None
        query = tantivy.Query.fuzzy_term_query(self.schema, VOCAB_FIELD, term, distance, True)
        result = searcher.search(query, MAX_EXPANSIONS + 1, count=False)
        if len(result.hits) > MAX_EXPANSIONS:
            return None
        return [str(searcher.doc(address)[VOCAB_FIELD][0]) for _, address in result.hits]

    def _term(self, field: str, value: str | int) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value)

    def _clause(self, clause: Clause) -> tantivy.Query:
        parts = []
        for term in clause.terms:
            if clause.kind == "term":
                parts.append(tantivy.Query.term_query(self.schema, clause.field, term))
            elif clause.kind == "prefix":
                parts.append(tantivy.Query.fuzzy_term_query(self.schema, clause.field, term, 0, True, True))
            else:
                parts.append(tantivy.Query.fuzzy_term_query(self.schema, clause.field, term, clause.distance, True))
        if len(parts) == 1:
            return parts[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, part) for part in parts])

    def close(self) -> None:
        self.rollback()

    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.directory.iterdir() if path.is_file())


def facets_from_aggregations(raw: dict[str, Any]) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Elasticsearch-shaped aggregation results (tantivy's and OpenSearch's) -> our facets and the total."""
    facets: dict[str, list[dict[str, Any]]] = {
        name: [{"value": b["key"], "count": int(b["doc_count"])} for b in raw.get(name, {}).get("buckets", [])]
        for name in ("category", "brand")
    }
    buckets = raw.get("price", {}).get("buckets", [])
    if len(buckets) != len(PRICE_RANGES):  # an empty index answers without buckets
        buckets = [{"doc_count": 0}] * len(PRICE_RANGES)
    price = [
        {"from": low, "to": high, "count": int(bucket["doc_count"])}
        for (low, high), bucket in zip(PRICE_RANGES, buckets, strict=True)
    ]
    facets["price"] = price
    # Every document has a price and the ranges cover all prices, so their counts add up to the total.
    return facets, sum(int(bucket["doc_count"]) for bucket in buckets)


def _field_texts(document: Document) -> Iterator[tuple[str, str]]:
    """What each text field indexes for a document."""
    item = document.state.get("item", {})
    yield "name", str(item.get("name") or "")
    yield "description", str(item.get("description") or "")
    for tag in item.get("tags") or []:
        yield "tags", str(tag)
    if item.get("brand"):
        yield "brand", str(item["brand"])


def _dump(document: Document) -> dict[str, Any]:
    return {"seq": document.seq, "visible": document.visible, "version": document.version, "state": document.state}


def _load(doc: tantivy.Document) -> Document:
    data = json.loads(doc["state"][0])
    item_id = str(doc["id"][0])
    return Document(item_id, int(data["seq"]), bool(data["visible"]), int(data["version"]), data["state"])


def _epoch_seconds(value: Any) -> int:
    if not value:
        return 0
    try:
        return max(0, int(parse_iso(str(value)).timestamp()))
    except ValueError:
        return 0
