"""A version-pinned fix of moto 5.2.5's DynamoDB, installed in the moto server process (used when the cloud
runs on moto's DynamoDB because Java or DynamoDB Local is missing).

moto runs TransactWriteItems by deep-copying every table the transaction names, applying its operations
one by one, and, when one fails (a condition, usually), putting the copies in place of the tables. The copy
carries a copy of the table's stream shard, so after the first cancelled transaction the table writes its
stream records into a new shard object, while every shard iterator handed out before (each stream
consumer's) keeps reading the old one: the table's stream consumers never see another record, with
nothing logged (seen as the orders outbox going silent after a cancel's undo found its work done, and with
it every notification of the later orders). And the operations applied before the rollback left their
records in the stream, changes that never happened on the table.

After a cancelled transaction each replaced table gets its live shard back, without the records of the
writes the rollback undid. So that no other write lands in between (moto's rollback would silently undo it
too, and its record would be cut), moto's DynamoDB and DynamoDB Streams requests run one at a time: moto's
DynamoDB is pure Python under the GIL, so the lock costs little throughput, and it gives transactions the
isolation they have on AWS.

The version assert makes an upgrade of moto fail loudly at start-up instead of silently running
unpatched code; infra.moto_server installs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

PINNED_MOTO = "5.2.5"
_LOCK = threading.RLock()
_ORIGINALS: dict[str, Any] = {}


def _serialized(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    return call_action


def _keeping_streams(original: Callable[..., None]) -> Callable[..., None]:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            live = dict(self.tables)
            lengths = {name: len(t.stream_shard.items) for name, t in live.items() if t.stream_shard is not None}
            try:
                original(self, transact_items)
            except BaseException:
                for name, table in live.items():
                    restored = self.tables.get(name)
                    shard = table.stream_shard
                    if restored is None or restored is table or shard is None:
                        continue
                    del shard.items[lengths[name] :]  # the records of the writes the rollback undid
                    shard.table = restored
                    restored.stream_shard = shard
                raise

    return transact_write_items


def install() -> None:
    """Patch moto's DynamoDB; installing again re-wraps moto's own methods, never a patched one."""
    import moto
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    assert moto.__version__ == PINNED_MOTO, (
        f"infra/dynamodb/moto_hooks.py patches moto {PINNED_MOTO}'s DynamoDB backend, but moto "
        f"{moto.__version__} is installed: pin moto[server]=={PINNED_MOTO} or re-check the patch"
    )
    if not _ORIGINALS:
        _ORIGINALS.update(
            transact=DynamoDBBackend.transact_write_items, dynamodb=DynamoHandler.call_action,
            streams=DynamoDBStreamsHandler.call_action,
        )  # fmt: skip
    DynamoDBBackend.transact_write_items = _keeping_streams(_ORIGINALS["transact"])  # type: ignore[method-assign]
    DynamoHandler.call_action = _serialized(_ORIGINALS["dynamodb"])  # type: ignore[method-assign]
    DynamoDBStreamsHandler.call_action = _serialized(_ORIGINALS["streams"])  # type: ignore[method-assign,assignment]
