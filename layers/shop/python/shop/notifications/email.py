"""Notification emails: rendered from templates (plain text and HTML) and sent through SES, once each.

The HTML template escapes everything it is given (Jinja autoescape): item names are written by sellers.
Sending is a side effect outside DynamoDB that no condition can guard, so it runs under powertools
idempotency keyed on the notification's id (shop.idempotency.Once): a redelivery finds the send completed
and does nothing; a second delivery while the first is still sending fails and is retried later (by then
completed); a worker that died mid-send leaves its claim only until its invocation's timeout, and the retry
sends. The one duplicate left is a worker dying after SES accepted the message and before the completion
was stored.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from shop import aws
from shop.config import notify_settings, required, settings
from shop.dynamodb import find, plain_map
from shop.idempotency import Once
from shop.notifications.inbox import notification_id
from shop.notifications.notices import Notice, money
from shop.orders.tables import ORDER, OrderRow

logger = Logger(child=True)

_SEND_ONCE: Once[dict[str, Any]] = Once(key_prefix="notifications.email", key_jmespath="notificationId")


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("shop.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip


def render(notice: Notice, order: dict[str, Any] | None) -> tuple[str, str, str]:
    """(subject, text, html) of the notice's email; `order` (its lines and totals) for an order's notice."""
    context: dict[str, Any] = {"title": notice.title, "body": notice.body, "order": None, "item": None}
    if order is not None:
        currency = order.get("currency")
        totals = order.get("totals") or {}
        context["order"] = {
            "orderId": order["orderId"],
            "lines": [
                {"name": line["name"], "quantity": int(line["quantity"]),
                 "unitPrice": money(int(line["unitPrice"]), currency),
                 "lineTotal": money(int(line["unitPrice"]) * int(line["quantity"]), currency)}
                for line in order.get("lines") or []
            ],
            "totals": {name: money(int(totals.get(name) or 0), currency)
                       for name in ("subtotal", "tax", "shipping", "total")},
        }  # fmt: skip
    elif notice.item_id is not None:
        details, currency = notice.details, notice.details.get("currency")
        previous = details.get("previousPrice")
        context["item"] = {
            "name": details.get("name") or "", "price": money(details.get("price"), currency),
            "previousPrice": money(previous, currency) if previous is not None else None,
        }  # fmt: skip
    environment = _templates()
    text = environment.get_template("notification.txt.j2").render(context)
    html = environment.get_template("notification.html.j2").render(context)
    return notice.title, text, html


def send_once(notice: Notice, *, lambda_context: LambdaContext | None = None) -> None:
    """Email the notice to its user, at most once per notification (see the module's docstring)."""
    _SEND_ONCE.run({"notificationId": notification_id(notice)}, lambda: _send(notice), lambda_context=lambda_context)


def _send(notice: Notice) -> dict[str, Any]:
    address = email_address(notice.user_id)
    if address is None:  # the account is gone, or its address is not proven theirs: nobody to write to
        logger.info("not emailed", extra={"kind": notice.kind, "reason": "no verified address"})
        return {"sent": False}
    order = _order(notice.order_id) if notice.order_id else None
    subject, text, html = render(notice, order)
    source = required(notify_settings().email_source, "NOTIFICATION_EMAIL_SOURCE")
    answer = aws.ses().send_email(
        Source=source,
        Destination={"ToAddresses": [address]},
        Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                 "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}}},
    )  # fmt: skip
    logger.info("emailed", extra={"kind": notice.kind, "messageId": answer.get("MessageId")})
    return {"sent": True, "messageId": answer.get("MessageId")}


def email_address(user_id: str) -> str | None:
    """The user's email address from the user pool (AdminGetUser takes the sub as the user name), only once
    the user proved it is theirs (`email_verified`): anyone can register someone else's address, and the
    shop must not mail a stranger about orders they never placed. The price: a user who never verifies gets
    no email, only the in-app inbox, and what was not emailed before verifying is not emailed afterwards
    (the send is recorded done, once, like any other)."""
    pool_id = required(settings().user_pool_id, "USER_POOL_ID")
    try:
        user = aws.cognito().admin_get_user(UserPoolId=pool_id, Username=user_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
            return None
        raise
    attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    if attributes.get("email_verified") != "true":
        return None
    return attributes.get("email") or None


def _order(order_id: str) -> dict[str, Any] | None:
    """The order's lines and totals as they are now (the event carries the lines but not the totals)."""
    row = find(OrderRow, order_id, ORDER)
    if row is None:
        return None
    return {
        "orderId": row.order_id, "currency": row.currency, "totals": plain_map(row.totals),
        "lines": [{"name": line.name, "quantity": line.quantity, "unitPrice": line.unit_price} for line in row.lines],
    }  # fmt: skip
