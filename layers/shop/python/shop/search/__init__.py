"""Item search: a port with two engines (tantivy locally, OpenSearch on AWS) fed from the Items and
Inventory streams. See docs/architecture.md and shop.search.port."""
