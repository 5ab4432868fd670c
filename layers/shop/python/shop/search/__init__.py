"""Item search: a port with two engines (tantivy locally, OpenSearch on AWS) fed from the Items and
Inventory streams. See docs/architecture.md and shop.search.port.

- service: what GET /items and GET /items/suggest do (typed answers in schemas) on the configured engine;
- indexing: stream records (decoded by shop.dynamodb.stream_image) merged into index documents (documents);
- query, synonyms, text: from what was typed to engine-neutral words; cursor: tamper-evident page cursors;
- port, tantivy_engine, opensearch_engine: the engine interface and its two adapters.
"""

from shop.search.indexing import Indexer
from shop.search.port import Filters
from shop.search.service import engine, open_engine, search_items, suggest

__all__ = ["Filters", "Indexer", "engine", "open_engine", "search_items", "suggest"]
