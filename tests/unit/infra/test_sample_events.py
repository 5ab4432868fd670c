"""The events `python -m infra generate-event` builds and the `--env-vars` rules of `invoke`, without a cloud."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest

from infra.awslambda.models import FunctionSpec, with_env_vars
from infra.sample_events import EventError, add_generate_event_parser, generate, match_route

ROUTES = ["GET /items", "GET /items/{itemId}", "POST /items/{itemId}/images", "GET /items/mine", "ANY /files/{key+}"]


def _event(*argv: str) -> dict:
    parser = argparse.ArgumentParser()
    add_generate_event_parser(parser.add_subparsers(dest="command"))
    return generate(parser.parse_args(["generate-event", *argv]))


def test_the_most_specific_route_wins_and_names_its_path_parameters():
    assert match_route(ROUTES, "GET", "/items/mine") == ("GET /items/mine", {})
    assert match_route(ROUTES, "GET", "/items/i-1") == ("GET /items/{itemId}", {"itemId": "i-1"})
    assert match_route(ROUTES, "DELETE", "/files/a/b.png") == ("ANY /files/{key+}", {"key": "a/b.png"})
    assert match_route(ROUTES, "PUT", "/items") == ("$default", {})


def test_a_stream_record_carries_the_tables_key_and_dynamodb_json_images():
    record = _event("dynamodb", "update", "--table", "ItemsTable", "--event-name", "MODIFY",
                    "--new-image", '{"itemId": "i-1", "price": 1.5}', "--old-image", '{"itemId": "i-1"}')["Records"][0]
    assert record["eventName"] == "MODIFY"
    assert record["dynamodb"]["Keys"] == {"itemId": {"S": "i-1"}}
    assert record["dynamodb"]["NewImage"]["price"] == {"N": "1.5"}
    assert record["eventSourceARN"].split(":table/")[1].startswith("ItemsTable/stream/")
    with pytest.raises(EventError, match="key attributes"):
        _event("dynamodb", "update", "--table", "ItemsTable", "--new-image", '{"title": "no key"}')


def test_a_task_states_parameters_are_evaluated_against_the_input_and_the_context():
    assert _event("stepfunctions", "task", "--state", "RefundPayment", "--input",
                  '{"orderId": "o-1", "error": {"Error": "PaymentDeclined"}}') == {
        "action": "refund_payment", "orderId": "o-1", "error": {"Error": "PaymentDeclined"}}  # fmt: skip
    waiting = _event("stepfunctions", "task", "--state", "AwaitConfirmation", "--input", '{"orderId": "o-1"}',
                     "--task-token", "token-1")  # fmt: skip
    assert waiting == {"action": "await_confirmation", "orderId": "o-1", "taskToken": "token-1"}


def test_an_s3_notification_url_encodes_the_key_as_s3_does():
    record = _event("s3", "put", "--bucket", "media", "--key", "uploads/a b.png")["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "uploads/a%20b.png"
    assert json.loads(_event("sqs", "receive-message", "--body", '{"x": 1}')["Records"][0]["body"]) == {"x": 1}


def _spec(name: str, **environment: str) -> FunctionSpec:
    return FunctionSpec(name=name, arn=f"arn:{name}", handler="app.lambda_handler", code_dir=Path("."),
                        layer_dirs=(), runtime="python3.11", environment=environment, timeout_seconds=3,
                        memory_mb=128)  # fmt: skip


def test_env_vars_change_only_declared_variables_and_a_functions_own_win_over_parameters():
    functions = {"A": _spec("A", TABLE="t", LEVEL="INFO"), "B": _spec("B", TABLE="t")}
    ignored = with_env_vars(functions, {"Parameters": {"TABLE": "shared", "LEVEL": "DEBUG"},
                                        "B": {"TABLE": "own", "EXTRA": "x"}, "Ghost": {"X": "1"}})  # fmt: skip
    assert functions["A"].environment == {"TABLE": "shared", "LEVEL": "DEBUG"}
    assert functions["B"].environment == {"TABLE": "own"}
    assert ignored == ["B.EXTRA", "Ghost (not a function of the template)"]


def test_env_vars_apply_to_published_versions_as_to_their_function():
    functions = {"A": _spec("A", TABLE="t"), "B": _spec("B", TABLE="t")}
    versions = [replace(functions["A"], version="1"), replace(functions["B"], version="1")]
    with_env_vars(functions, {"Parameters": {"TABLE": "shared"}, "B": {"TABLE": "own"}}, versions)
    assert [(spec.name, spec.version, spec.environment) for spec in versions] == [
        ("A", "1", {"TABLE": "shared"}),
        ("B", "1", {"TABLE": "own"}),
    ]
