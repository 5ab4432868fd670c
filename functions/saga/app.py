"""The checkout state machine's Lambda tasks: `action` names the step (shop.checkout.saga.STEPS).

Errors are raised, never returned: their class names (OutOfStock, PaymentDeclined, ...) are what the
state machine's Retry and Catch match.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import checkout

logger = Logger()


@logger.inject_lambda_context(correlation_id_path="orderId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.info("saga step", extra={"action": event.get("action")})
    return checkout.run_step(event)
