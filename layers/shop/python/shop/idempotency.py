"""Doing something once per key: powertools idempotency on the stack's Idempotency table, wired one way.

    ONBOARD_ONCE = Once(key_prefix="catalog.create_item", key_jmespath="[sellerId, idempotencyKey]",
                        payload_jmespath="item", output=ItemView)
    ONBOARD_ONCE.run(request, lambda: _onboard(...), lambda_context=context)

`request` is the JSON-ready data the key (and the payload check) are taken from; the action runs only the
first time, and a repeat within IDEMPOTENCY_TTL_SECONDS answers the first result (rebuilt as `output`).
The same key with a different payload raises IdempotencyKeyReusedError (409), a repeat while the first
still runs RequestInProgressError (409). Given the Lambda context, an invocation cut off by its timeout
releases its key early instead of blocking it until the record expires.

`seen(request)` asks, with one read, whether the key has a record. A caller that refuses some requests
before doing anything (checkout at a sold-out door) takes no record for them, and asks this before
refusing, so that the retry of a request that was done is answered by run() as the first was.

Users: catalog item onboarding (POST /items), checkout's place_order (POST /checkout) and the orders
outbox publisher (one publication per event id). The stored key is "<key_prefix>#<hash>", so a prefix
must never change while records made with it may still be read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemNotFoundError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from shop import aws
from shop.config import settings
from shop.errors import IdempotencyKeyReusedError, RequestInProgressError

T = TypeVar("T")


class Once(Generic[T]):
    """An action done at most once per key (see the module's docstring)."""

    def __init__(
        self, *, key_prefix: str, key_jmespath: str, payload_jmespath: str = "", output: type[BaseModel] | None = None
    ) -> None:
        self.key_prefix = key_prefix
        self.key_jmespath = key_jmespath
        self.payload_jmespath = payload_jmespath
        self.output = output

    def run(self, data: dict[str, Any], action: Callable[[], T], *, lambda_context: LambdaContext | None = None) -> T:
        config, once = _wired(self)
        config.lambda_context = lambda_context  # this invocation's, never a previous one's
        try:
            result: T = once(data=data, action=action)
        except IdempotencyValidationError as error:
            raise IdempotencyKeyReusedError() from error
        except IdempotencyAlreadyInProgressError as error:
            raise RequestInProgressError() from error
        return result

    def seen(self, data: dict[str, Any]) -> bool:
        """Whether this key has a record (done or under way, the same payload or not): one consistent read.
        A caller that can refuse a request without doing anything asks this before refusing, so that a retry
        of a request that was done is answered by run() as the first was, not refused."""
        config, _ = _wired(self)
        store = _store(self)
        store.configure(config, key_prefix=self.key_prefix)  # what run() does on its first call
        try:
            return store.get_record(data) is not None
        except IdempotencyItemNotFoundError:
            return False
        except IdempotencyValidationError:  # the same key with another payload: run() says so
            return True


def _act(*, data: dict[str, Any], action: Callable[[], Any]) -> Any:
    return action()


@cache
def _wired(once: Once[Any]) -> tuple[IdempotencyConfig, Callable[..., Any]]:
    # Built on first use, not at import: the persistence layer makes a boto3 client and reads the settings.
    # One persistence layer per Once: powertools configures a layer for the first function it serves only.
    config = IdempotencyConfig(
        event_key_jmespath=once.key_jmespath,
        payload_validation_jmespath=once.payload_jmespath,
        expires_after_seconds=settings().idempotency_ttl_seconds,
    )
    function: Callable[..., Any] = idempotent_function(
        _act,
        data_keyword_argument="data",
        persistence_store=_store(once),
        config=config,
        output_serializer=PydanticSerializer(once.output) if once.output is not None else None,
        key_prefix=once.key_prefix,
    )
    return config, function


@cache
def _store(once: Once[Any]) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=aws.dynamodb())


def forget_wiring() -> None:
    """Rebuild every Once's persistence layer on its next use (tests that swap the AWS or the settings)."""
    _wired.cache_clear()
    _store.cache_clear()
