"""The marketplace domain library, shipped to every function as the shop Lambda layer.

Handlers (functions/*/app.py) parse the event, call a context here by its business name and shape the
response with shop.http; the rules live here, not in the handlers.

One package per bounded context; each states its public API in __init__, and keeps beside it its request
and response models (schemas), its pynamodb models (tables) and the domain events of its rows (events):

    accounts    register, sign in, refresh tokens (the Cognito user pool)
    catalog     onboard items (one or a file of them), read, change, (de)activate, restock; images; compliance
    inventory   stock per variant; reserve an order's lines in one transaction, sell, release, return
    cart        buyers' and guests' carts, price snapshots, totals, merge at login, hand-off to checkout
    orders      the order life cycle, the buyer's history, the Orders/Payments outbox
    payments    one idempotent charge per order, refunds, fraud rules, the payment provider port
    checkout    POST /checkout, the saga's steps next to their compensations, the one unwind (cancel, expiry)
    search      the search port, its tantivy and OpenSearch adapters, indexing, GET /items

Contexts depend one way: catalog -> inventory; cart -> catalog, inventory; orders -> cart, inventory,
payments; checkout -> orders, payments, inventory, cart. Nothing depends on checkout.

Shared mechanisms, each once: config (every environment variable), errors (one exception per client-visible
error), http (the resolver and the error mapping), validation (model bases, normalised text), identity (the
caller), ids (prefixed ULIDs), clock (timestamps), aws (boto3 clients), dynamodb (table names, transactions,
refused writes, stream images), idempotency (once per key), events (the envelope, publishing, RowEvents).
"""
