"""The start-up inventory: what of a provisioned stack the local cloud emulates only partly or not at all, from the
one table of resource types, and that table as docs/local-cloud.md shows it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from infra.awslambda.models import FunctionSpec
from infra.cloudformation.inventory import (
    RESOURCE_TYPES,
    WORKER_RUNTIME,
    Gap,
    Support,
    inventory,
    markdown_table,
    report,
)
from infra.cloudformation.provision import LocalStack, PhysicalResource

ROOT = Path(__file__).resolve().parents[4]
SERVERLESS = {"Transform": "AWS::Serverless-2016-10-31"}


def _stack(*resources: tuple[str, str, dict[str, Any]], runtimes: dict[str, str] | None = None) -> LocalStack:
    stack = LocalStack(name="unit", parameters={})
    for logical_id, kind, properties in resources:
        stack.resources[logical_id] = PhysicalResource(logical_id, kind, logical_id, properties=properties)
    for name, runtime in (runtimes or {}).items():
        stack.functions[name] = FunctionSpec(name, f"arn:{name}", "app.handler", ROOT, (), runtime, {}, 3, 128)
    return stack


def test_types_not_emulated_are_listed_with_their_count_and_emulated_or_passive_ones_are_not():
    stack = _stack(
        ("Stream", "AWS::Kinesis::Stream", {}), ("Alarm1", "AWS::CloudWatch::Alarm", {}),
        ("Alarm2", "AWS::CloudWatch::Alarm", {}), ("Queue", "AWS::SQS::Queue", {}), ("Role", "AWS::IAM::Role", {}),
        ("Api", "AWS::ApiGateway::RestApi", {}), ("Method", "AWS::ApiGateway::Method", {}),
    )  # fmt: skip
    gaps = inventory(stack, SERVERLESS)
    assert [(gap.subject, gap.support, gap.count) for gap in gaps] == [
        ("AWS::ApiGateway::Method", Support.NONE, 1),  # no silent 404s: an explicit method is not served
        ("AWS::CloudWatch::Alarm", Support.NONE, 2),
        ("AWS::Kinesis::Stream", Support.NONE, 1),
    ]
    assert "nothing local creates or runs it" in gaps[2].how


def test_a_property_is_listed_only_where_the_template_sets_a_value_the_cloud_does_not_honour():
    stack = _stack(
        ("Traced", "AWS::Lambda::Function", {"TracingConfig": {"Mode": "Active"}, "DeadLetterConfig": {}}),
        ("PassThrough", "AWS::Lambda::Function", {"TracingConfig": {"Mode": "PassThrough"}}),
        ("Plain", "AWS::Lambda::Function", {}),
        ("Mapping", "AWS::Lambda::EventSourceMapping", {"EventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s"}),
        ("SqsMapping", "AWS::Lambda::EventSourceMapping", {"EventSourceArn": "arn:aws:sqs:us-east-1:1:q"}),
        ("RegionalAcl", "AWS::WAFv2::WebACL", {"Scope": "REGIONAL"}),
        ("EdgeAcl", "AWS::WAFv2::WebACL", {"Scope": "CLOUDFRONT"}),
    )
    assert [(gap.subject, gap.count) for gap in inventory(stack, SERVERLESS)] == [
        ("AWS::Lambda::EventSourceMapping.EventSourceArn", 1),
        ("AWS::Lambda::Function.DeadLetterConfig", 1),
        ("AWS::Lambda::Function.TracingConfig", 1),
        ("AWS::WAFv2::WebACL.Scope", 1),
    ]


def test_functions_on_another_python_and_other_transforms_are_listed():
    other = "python3.8" if WORKER_RUNTIME != "python3.8" else "python3.9"
    stack = _stack(runtimes={"Legacy": other, "Current": WORKER_RUNTIME})
    gaps = inventory(stack, {"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]})
    assert [gap.line() for gap in gaps] == [
        "Transform AWS::LanguageExtensions: not emulated: not applied: only SAM's transform is",
        f"function Legacy: partly emulated: runtime {other} runs on {WORKER_RUNTIME} here",
    ]
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" == WORKER_RUNTIME


def test_a_stack_of_emulated_things_has_nothing_to_list():
    stack = _stack(("Table", "AWS::DynamoDB::Table", {"BillingMode": "PAY_PER_REQUEST"}),
                   runtimes={"Function": WORKER_RUNTIME})  # fmt: skip
    assert inventory(stack, SERVERLESS) == []


def test_the_report_is_one_block_naming_strict():
    text = report([Gap("AWS::Kinesis::Stream", Support.NONE, "recorded only", 2),
                   Gap("function F", Support.PARTIAL, "runtime python3.8 runs on python3.11 here")])  # fmt: skip
    assert text.splitlines() == [
        "not emulated, or only partly, here (2; `run --strict` refuses to start on any):",
        "  AWS::Kinesis::Stream x2: not emulated: recorded only",
        "  function F: partly emulated: runtime python3.8 runs on python3.11 here",
    ]


def test_the_documented_table_is_the_data():
    document = (ROOT / "docs" / "local-cloud.md").read_text()
    assert f"<!-- inventory -->\n{markdown_table()}\n<!-- /inventory -->" in document, (
        "docs/local-cloud.md's table is not infra.cloudformation.inventory's: run python scripts/build_inventory_doc.py"
    )
    for kind, support in RESOURCE_TYPES.items():
        assert f"| `{kind}` | {support.support} |" in document


def test_every_type_the_provisioner_creates_has_an_entry_saying_how():
    """A creator added without its entry would list the type as not emulated at every start."""
    from infra.cloudformation.provision import Provisioner
    from infra.core.aws import Endpoints

    nowhere = "http://127.0.0.1:9"
    created = set(Provisioner(Endpoints(nowhere, nowhere, nowhere, nowhere), ROOT, "unit")._creators)
    assert created - set(RESOURCE_TYPES) == set()
    assert {kind for kind in created if RESOURCE_TYPES[kind].support is Support.NONE} == set()
