"""The one loop that long-polls an SQS queue, hands each batch to a handler and deletes what it handled.

Three parts of the local cloud consume a queue in moto: SQS event source mappings (infra.sqs.event_source),
S3 notifications through their internal queue (infra.s3.notifications) and EventBridge through its
router queues (infra.events.bus). Each builds a QueuePoller with its handler and options:

- `tasks` poll tasks run at once; boto3's calls block, so they run on the poller's own small thread pool
  (one thread per task) and the cloud's event loop never waits on SQS;
- `serialize_receives` lets one task receive at a time (FIFO queues: moto locks a message group when a
  receive returns it, but two receives running at once could both take from the same group); handlers
  still run concurrently;
- a batch is one long-poll receive (`wait_seconds`), or what `gather` collects (an SQS mapping's batching
  window);
- the handler returns the messages it handled, which are deleted; the others come back after the
  queue's visibility timeout (a handler may also delete some itself, e.g. filtered-out messages);
- an error is logged as a warning and the task tries again after RETRY_SECONDS;
- stop() cancels the tasks waiting on a receive at once (what they would receive returns to the queue
  after the visibility timeout) and gives those handling a batch `stop_grace_seconds` to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

POLL_SECONDS = 1  # long-poll wait of an SQS event source (its batching window counts in whole seconds)
# Internal queues (S3 notifications, EventBridge routers) are only ever read by one poller: a long wait costs
# moto nothing (it answers as soon as a message lands) and saves the idle cloud a request a second per queue.
INTERNAL_POLL_SECONDS = 10
RECEIVE_LIMIT = 10  # SQS ReceiveMessage returns at most ten messages, DeleteMessageBatch takes ten
RETRY_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0

Message = dict[str, Any]
Handler = Callable[[list[Message]], Awaitable[Iterable[Message]]]
_T = TypeVar("_T")


class QueuePoller:
    """`tasks` long-poll loops on one queue, each: receive (or gather) a batch, handle it, delete it."""

    def __init__(
        self,
        name: str,
        handler: Handler,
        *,
        log: logging.Logger,
        tasks: int = 1,
        batch_size: int = RECEIVE_LIMIT,
        serialize_receives: bool = False,
        receive_options: Mapping[str, Any] | None = None,
        gather: Callable[[], Awaitable[list[Message]]] | None = None,
        thread_name: str = "poller",
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
        wait_seconds: int = POLL_SECONDS,
    ) -> None:
        self.name = name
        self.tasks = max(1, tasks)
        self.batch_size = batch_size
        self._handler = handler
        self._log = log
        self._receive_options = dict(receive_options or {})
        self._gather = gather or self._receive_batch
        self._grace = stop_grace_seconds
        self._wait_seconds = wait_seconds
        self._executor = ThreadPoolExecutor(self.tasks, thread_name_prefix=thread_name[:30])
        self._receiving: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if serialize_receives else contextlib.nullcontext()
        )
        self._client: Any = None
        self._queue_url = ""
        self._stopping = False
        self._running: list[asyncio.Task[None]] = []
        self._handling: set[asyncio.Task[Any]] = set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def call(self, function: Callable[..., _T], **kwargs: Any) -> _T:
        """A blocking SDK call on the poller's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: function(**kwargs))

    def start(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url
        self._running = [asyncio.create_task(self._poll(), name=f"{self.name} #{i}") for i in range(self.tasks)]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._running:
            if task not in self._handling:
                task.cancel()
        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=self._grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def receive(self, limit: int, wait_seconds: int) -> list[Message]:
        """One ReceiveMessage of up to `limit` (at most ten) messages, waiting up to `wait_seconds`."""
        response = await self.call(
            self._client.receive_message, QueueUrl=self._queue_url, MaxNumberOfMessages=min(limit, RECEIVE_LIMIT),
            WaitTimeSeconds=wait_seconds, **self._receive_options,
        )  # fmt: skip
        messages: list[Message] = response.get("Messages", [])
        return messages

    async def delete(self, messages: list[Message]) -> None:
        """Delete by receipt handle, ten at a time; a message SQS would not delete is logged."""
        for start in range(0, len(messages), RECEIVE_LIMIT):
            chunk = messages[start : start + RECEIVE_LIMIT]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            response = await self.call(self._client.delete_message_batch, QueueUrl=self._queue_url, Entries=entries)
            for failure in response.get("Failed", []):
                self._log.warning("%s: could not delete a message: %s", self.name, failure.get("Message"))

    async def _receive_batch(self) -> list[Message]:
        return await self.receive(self.batch_size, self._wait_seconds)

    async def _poll(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while not self._stopping:
            try:
                async with self._receiving:
                    messages = await self._gather()
                if messages:
                    self._handling.add(task)
                    try:
                        await self.delete(list(await self._handler(messages)))
                    finally:
                        self._handling.discard(task)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._stopping:
                    return
                self._log.warning("%s: polling failed, retrying in %g s: %s", self.name, RETRY_SECONDS, error)
                await asyncio.sleep(RETRY_SECONDS)
