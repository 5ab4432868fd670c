"""Payment reconciler (every 5 minutes): payments stuck half way, or disagreeing with the provider's
records, are settled (shop.payments.reconcile); the report is logged and returned."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import orders, payments
from shop.config import checkout_settings

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    report = payments.reconcile(
        older_than_seconds=checkout_settings().reconcile_older_than_seconds, order_status=orders.status_of
    )
    return report.as_dict()
