"""Where a reconciliation reads from: the stack's tables (boto3, with the endpoints of AWS_* variables), the
local cloud's event log, the checkout state machine's executions and the local cloud's log files.

A Target names them. `local_target` builds it from a running local cloud's state file (.local/cloud.json,
or the one SHOP_CLOUD_STATE names); `stack_target` from a stack's outputs (SHOP_STACK_OUTPUTS, or read with
CloudFormation from SHOP_STACK_NAME), with AWS_ENDPOINT_URL* for LocalStack, for any deployed stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.core.clients import sdk_client
from infra.events.inspect import read_events

DEFAULT_PAYMENT_WINDOW_SECONDS = 300  # template.yaml's default of PaymentWindowSeconds
TABLE_OUTPUT_SUFFIX = "TableName"


@dataclass
class Target:
    outputs: Mapping[str, str]  # the stack's outputs: OrdersTableName, InventoryTableName, PaymentsTableName, ...
    environment: Mapping[str, str] = field(default_factory=dict)  # AWS_* variables for the SDK clients
    payment_window_seconds: int = DEFAULT_PAYMENT_WINDOW_SECONDS
    event_log_url: str | None = None  # the local cloud's gateway, which serves GET /_local/events
    log_dir: Path | None = None  # the local cloud's function and service logs
    extra_tables: tuple[str, ...] = ()  # tables to scan for card numbers that are no output (e.g. Idempotency)

    def client(self, service: str) -> Any:
        return sdk_client(service, self.environment)

    def table(self, output: str) -> str:
        name = self.outputs.get(output)
        if not name:
            raise KeyError(f"the stack has no output {output}")
        return name

    def all_tables(self) -> list[str]:
        named = [value for key, value in self.outputs.items() if key.endswith(TABLE_OUTPUT_SUFFIX)]
        return sorted(set(named) | set(self.extra_tables))


def local_target(state: Mapping[str, Any]) -> Target:
    """A running local cloud, from its state file: every table of its DynamoDB is the stack's."""
    parameters = state.get("parameters") or {}
    target = Target(
        outputs=dict(state["outputs"]),
        environment=dict(state["environment"]),
        payment_window_seconds=int(parameters.get("PaymentWindowSeconds", DEFAULT_PAYMENT_WINDOW_SECONDS)),
        event_log_url=state["endpoints"]["api"],
        log_dir=Path(state["logDir"]) if state.get("logDir") else None,
    )
    target.extra_tables = tuple(list_tables(target))
    return target


def stack_target(outputs: Mapping[str, str], environment: Mapping[str, str],
                 parameters: Mapping[str, str] | None = None) -> Target:  # fmt: skip
    window = (parameters or {}).get("PaymentWindowSeconds", DEFAULT_PAYMENT_WINDOW_SECONDS)
    return Target(outputs=dict(outputs), environment=dict(environment), payment_window_seconds=int(window))


def described_stack(name: str, environment: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A deployed stack's outputs and parameters, read with CloudFormation."""
    stack = sdk_client("cloudformation", environment).describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return outputs, parameters


def list_tables(target: Target) -> list[str]:
    client, names, start = target.client("dynamodb"), [], None
    while True:
        page = client.list_tables(**({"ExclusiveStartTableName": start} if start else {}))
        names += page.get("TableNames", [])
        start = page.get("LastEvaluatedTableName")
        if not start:
            return names


def scan(target: Target, table: str) -> Iterator[dict[str, Any]]:
    """Every item of the table, decoded to Python values (numbers as Decimal), read consistently."""
    from boto3.dynamodb.types import TypeDeserializer

    decode = TypeDeserializer().deserialize
    paginator = target.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            yield {name: decode(value) for name, value in item.items()}


def key_names(target: Target, table: str) -> list[str]:
    """The table's key attributes, partition key first."""
    schema = target.client("dynamodb").describe_table(TableName=table)["Table"]["KeySchema"]
    return [key["AttributeName"] for key in sorted(schema, key=lambda key: key["KeyType"] != "HASH")]


def key_of(item: Mapping[str, Any], names: Sequence[str]) -> str:
    """The item's key as a report shows it: orderId=ord_..., sk=ORDER."""
    return ", ".join(f"{name}={item.get(name)}" for name in names)


def bus_events(target: Target) -> list[dict[str, Any]] | None:
    """Every event the local cloud's buses routed (its event log), oldest first; None on another stack."""
    if target.event_log_url is None:
        return None
    events: list[dict[str, Any]] = []
    after = 0
    while found := read_events(target.event_log_url, after=after)["events"]:
        events += [dict(item["event"]) for item in found]
        after = found[-1]["seq"]
    return events


def executions(target: Target) -> Iterator[tuple[str, list[Any]]]:
    """(execution name, [input, output, history events]) of each checkout state machine execution."""
    arn = target.outputs.get("CheckoutStateMachineArn")
    if not arn:
        return
    client = target.client("stepfunctions")
    for page in client.get_paginator("list_executions").paginate(stateMachineArn=arn):
        for execution in page.get("executions", []):
            described = client.describe_execution(executionArn=execution["executionArn"])
            history = client.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)
            yield execution["name"], [described.get("input"), described.get("output"), history.get("events", [])]


def log_files(target: Target) -> list[Path]:
    if target.log_dir is None or not target.log_dir.is_dir():
        return []
    return sorted(target.log_dir.glob("*.log"))


ARCHIVE_KEY = "_archiveKey"  # added to each archived order read back: the object it was read from
ARCHIVE_BUCKET_OUTPUT = "OrderArchiveBucketName"


def archived_orders(target: Target) -> dict[str, dict[str, Any]]:
    """Order id -> every archived order's document (shop.orders.archive), with its object key under
    ARCHIVE_KEY; empty for a stack without an order archive."""
    bucket = target.outputs.get(ARCHIVE_BUCKET_OUTPUT)
    if not bucket:
        return {}
    s3, found = target.client("s3"), {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="orders/"):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read().decode()
            for line in body.splitlines():
                if line.strip():
                    order = json.loads(line)
                    found[str(order["orderId"])] = {**order, ARCHIVE_KEY: entry["Key"]}
    return found
