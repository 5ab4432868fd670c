"""The local mailbox: what the user pool sent through moto's SES (its verification codes), for tests and demos.

The gateway serves it as `GET /_local/mail?to=ADDRESS` and `python -m infra mail [--to ADDRESS]` prints it.
Both read moto's SES sent messages through the route infra.cognito.verification adds to the moto server; on
AWS the mail goes to the real inbox and there is nothing to read here.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from infra.cognito.verification import SENT_MESSAGES_PATH

MAIL_PATH = "/_local/mail"  # served by the gateway


def sent_messages(moto_url: str, to: str | None = None) -> list[dict[str, Any]]:
    """The messages moto's SES sent, oldest first: {"id", "from", "to", "subject", "body"}; only those
    addressed to `to` (compared case-insensitively) when it is given."""
    with urllib.request.urlopen(f"{moto_url.rstrip('/')}{SENT_MESSAGES_PATH}", timeout=10) as response:  # noqa: S310 - moto's loopback URL
        raw = json.loads(response.read())["messages"]
    messages = []
    for message in raw:
        destinations = message.get("destinations") or {}
        recipients = (
            [
                address
                for field in ("ToAddresses", "CcAddresses", "BccAddresses")
                for address in destinations.get(field, [])
            ]
            if isinstance(destinations, dict)
            else list(destinations)
        )
        if to is not None and to.lower() not in (address.lower() for address in recipients):
            continue
        messages.append(
            {"id": message["id"], "from": message["source"], "to": recipients, "subject": message.get("subject"),
             "body": message.get("body")}
        )  # fmt: skip
    return messages


def http_route(moto_url: str) -> Callable[[Mapping[str, str]], Awaitable[dict[str, Any]]]:
    """`GET /_local/mail?to=ADDRESS` for the gateway's local routes: {"messages": [...]}, oldest first."""

    async def mail(query: Mapping[str, str]) -> dict[str, Any]:
        return {"messages": await asyncio.to_thread(sent_messages, moto_url, query.get("to") or None)}

    return mail


def show_mail(api_url: str, to: str | None) -> int:
    """`python -m infra mail [--to ADDRESS]`: the mailbox through the running cloud's gateway, as text."""
    url = f"{api_url.rstrip('/')}{MAIL_PATH}"
    if to:
        url += "?" + urllib.parse.urlencode({"to": to})
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local gateway's URL
        messages = json.loads(response.read())["messages"]
    for message in messages:
        print(f"From: {message['from']}\nTo: {', '.join(message['to'])}\nSubject: {message['subject']}\n")
        print(f"{message['body']}\n{'-' * 40}")
    if not messages:
        print("no mail" + (f" to {to}" if to else ""))
    return 0
