"""The events the template's functions receive, for `python -m infra generate-event` (the shape of
`sam local generate-event <service> <event> [options]`) and `python -m infra invoke -e FILE`.

Each generator fills in what AWS would: the HTTP API's payload 2.0 event with the route key and path
parameters of the template's route that the path matches, a DynamoDB stream record with the item's
images in DynamoDB JSON, an S3 notification, an SQS message, an EventBridge event and the input a Step
Functions Task state passes to its function (its Parameters, or a lambda:invoke Payload, evaluated against
the execution input). The option names are sam's where sam has the event (`--method`, `--path`, `--body`,
`--bucket`, `--key`, `--queue-name`, `--region`, ...); the extra options say what our functions read
(`--claims`, `--new-image`, `--state`, ...).
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from infra.core.aws import ACCOUNT_ID, REGION

ROOT = Path(__file__).resolve().parents[1]
Generator = Callable[[argparse.Namespace], dict[str, Any]]


class EventError(Exception):
    """The options do not describe an event the template's functions could receive."""


def _json_option(text: str | None, option: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise EventError(f"{option} is not JSON: {error}") from None


def _now() -> tuple[str, int]:
    now = datetime.now(UTC)
    return now.strftime("%d/%b/%Y:%H:%M:%S +0000"), int(now.timestamp() * 1000)


# ---------------------------------------------------------------- API Gateway HTTP API (payload 2.0)


def http_api_routes(template: Path) -> list[str]:
    """The HTTP API's route keys ("GET /items/{itemId}") as SAM translates the template."""
    from infra.cloudformation.provision import resolve_parameters
    from infra.cloudformation.template import load_template, translate

    loaded = load_template(template)
    translated = translate(loaded, template.parent, resolve_parameters(loaded, {}))
    routes = []
    for resource in translated["Resources"].values():
        if resource["Type"] == "AWS::ApiGatewayV2::Api" and "Body" in resource.get("Properties", {}):
            for path, operations in resource["Properties"]["Body"].get("paths", {}).items():
                routes += [f"{method.upper()} {path}" for method in operations if isinstance(operations[method], dict)]
    return routes


def _route_pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in re.split(r"(\{[^}]+\})", path):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("".join(parts) + "$")


def match_route(routes: list[str], method: str, path: str) -> tuple[str, dict[str, str]]:
    """The route key API Gateway picks for the request, and its path parameters; `$default` if none."""
    candidates = []
    for route in routes:
        route_method, _, route_path = route.partition(" ")
        if route_method not in (method, "ANY"):
            continue
        found = _route_pattern(route_path).match(path)
        if found:
            # API Gateway prefers the most specific route: more literal characters, then an exact method.
            literal = len(re.sub(r"\{[^}]+\}", "", route_path))
            candidates.append((literal, route_method == method, route, found.groupdict()))
    if not candidates:
        return "$default", {}
    _, _, route, parameters = max(candidates, key=lambda candidate: candidate[:2])
    return route, parameters


def http_api_proxy(args: argparse.Namespace) -> dict[str, Any]:
    from infra.apigateway.authorizer import render_claims

    method = args.method.upper()
    path, _, query_string = args.path.partition("?")
    if not path.startswith("/"):
        raise EventError(f"--path must start with /: {args.path!r}")
    route_key, path_parameters = match_route(http_api_routes(args.template), method, path)
    headers = {"accept": "application/json", "host": args.domain_name, "user-agent": "python -m infra",
               "x-forwarded-proto": "https", "x-forwarded-port": "443", "x-forwarded-for": "127.0.0.1"}  # fmt: skip
    for header in args.header:
        name, separator, value = header.partition(":")
        if not separator:
            raise EventError(f"--header expects 'Name: value', got {header!r}")
        headers[name.strip().lower()] = value.strip()
    if args.body is not None:
        headers.setdefault("content-type", "application/json")
    when, epoch_ms = _now()
    context: dict[str, Any] = {
        "accountId": args.account_id, "apiId": args.api_id, "domainName": args.domain_name,
        "domainPrefix": args.domain_name.split(".", 1)[0],
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": headers["user-agent"]},
        "requestId": str(uuid.uuid4()), "routeKey": route_key, "stage": args.stage, "time": when, "timeEpoch": epoch_ms,
    }  # fmt: skip
    claims = _json_option(args.claims, "--claims")
    if claims is not None:
        if not isinstance(claims, dict):
            raise EventError("--claims must be a JSON object of the token's claims")
        context["authorizer"] = {"jwt": {"claims": render_claims(claims), "scopes": None}}
    event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": query_string,
                             "headers": headers}  # fmt: skip
    if query_string:
        event["queryStringParameters"] = dict(parse_qsl(query_string, keep_blank_values=True))
    event["requestContext"] = context
    if args.body is not None:
        event["body"] = base64.b64encode(args.body.encode()).decode() if args.base64 else args.body
    event["isBase64Encoded"] = bool(args.body is not None and args.base64)
    if path_parameters:
        event["pathParameters"] = path_parameters
    event["stageVariables"] = None
    return event


# ---------------------------------------------------------------- API Gateway REST API (payload 1.0)


def rest_api_routes(template: Path) -> list[str]:
    """The REST APIs' methods ("GET /items/{itemId}", "ANY /{proxy+}") as SAM translates the template."""
    from infra.cloudformation.provision import resolve_parameters
    from infra.cloudformation.template import load_template, translate

    loaded = load_template(template)
    translated = translate(loaded, template.parent, resolve_parameters(loaded, {}))
    routes = []
    for resource in translated["Resources"].values():
        if resource["Type"] == "AWS::ApiGateway::RestApi" and "Body" in resource.get("Properties", {}):
            for path, operations in resource["Properties"]["Body"].get("paths", {}).items():
                for method, operation in operations.items():
                    if isinstance(operation, dict) and method != "options":
                        http_method = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                        routes.append(f"{http_method} {path}")
    return routes


def rest_api_proxy(args: argparse.Namespace) -> dict[str, Any]:
    """A REST API's Lambda proxy event, as the local gateway builds it, for the template's method that
    --method/--path match (with --resource, or /{proxy+}, if none does)."""
    from infra.apigateway.rest import cognito_claims, payload_v1_event

    method = args.method.upper()
    path, _, query_string = args.path.partition("?")
    path = "/" + path.lstrip("/")
    route, path_parameters = match_route(rest_api_routes(args.template), method, path)
    resource = route.partition(" ")[2] if route != "$default" else args.resource
    if route == "$default" and resource == "/{proxy+}":
        path_parameters = {"proxy": path.lstrip("/")}
    headers = [
        ("Accept", "application/json"), ("Host", args.domain_name), ("User-Agent", "python -m infra"),
        ("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-Port", "443"), ("X-Forwarded-Proto", "https"),
    ]  # fmt: skip
    for header in args.header:
        name, separator, value = header.partition(":")
        if not separator:
            raise EventError(f"--header expects 'Name: value', got {header!r}")
        headers.append((name.strip(), value.strip()))
    if args.body is not None and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    claims = _json_option(args.claims, "--claims")
    if claims is not None and not isinstance(claims, dict):
        raise EventError("--claims must be a JSON object of the token's claims")
    body = args.body
    if body is not None and args.base64:
        body = base64.b64encode(body.encode()).decode()
    return payload_v1_event(
        method=method, path=path, resource=resource, stage=args.stage, api_id=args.api_id, headers=headers,
        query=parse_qsl(query_string, keep_blank_values=True), path_params=path_parameters, stage_variables=None,
        source_ip="127.0.0.1", request_id=str(uuid.uuid4()), when=_now(), body=body,
        is_base64=bool(body is not None and args.base64),
        authorizer={"claims": cognito_claims(claims)} if claims is not None else None,
    )  # fmt: skip


# ---------------------------------------------------------------- DynamoDB stream


def _key_schema(template: Path, table: str) -> list[str]:
    from infra.cloudformation.template import load_template

    resource = load_template(template)["Resources"].get(table)
    if resource is None or resource.get("Type") != "AWS::DynamoDB::Table":
        raise EventError(f"--table {table!r} is not a table of the template; give its logical id, or --keys")
    return [str(key["AttributeName"]) for key in resource["Properties"]["KeySchema"]]


def dynamodb_update(args: argparse.Namespace) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()

    def dynamodb_json(value: Any, option: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise EventError(f"{option} must be a JSON object (an item)")
        # DynamoDB has no floats: numbers travel as decimals, as the SDK would write them.
        from decimal import Decimal

        item = json.loads(json.dumps(value), parse_float=Decimal)
        return {key: serializer.serialize(attribute) for key, attribute in item.items()}

    new_image = dynamodb_json(_json_option(args.new_image, "--new-image"), "--new-image")
    old_image = dynamodb_json(_json_option(args.old_image, "--old-image"), "--old-image")
    keys = dynamodb_json(_json_option(args.keys, "--keys"), "--keys")
    name = args.event_name
    if name != "REMOVE" and new_image is None:
        raise EventError(f"an {name} record carries --new-image")
    if name != "INSERT" and old_image is None:
        raise EventError(f"a {name} record carries --old-image")
    image = new_image if new_image is not None else old_image
    assert image is not None
    if keys is None:  # the image's key attributes, as the table's KeySchema in the template names them
        key_names = _key_schema(args.template, args.table)
        missing = [name for name in key_names if name not in image]
        if missing:
            raise EventError(f"the image lacks {args.table}'s key attributes {missing}; or give --keys")
        keys = {name: image[name] for name in key_names}
    record: dict[str, Any] = {"Keys": keys}
    if new_image is not None:
        record["NewImage"] = new_image
    if old_image is not None:
        record["OldImage"] = old_image
    sequence = str(time.time_ns())
    record.update({"ApproximateCreationDateTime": int(time.time()), "SequenceNumber": sequence,
                   "SizeBytes": len(json.dumps(record)), "StreamViewType": "NEW_AND_OLD_IMAGES"})  # fmt: skip
    table_arn = f"arn:{args.partition}:dynamodb:{args.region}:{ACCOUNT_ID}:table/{args.table}"
    entry: dict[str, Any] = {
        "eventID": uuid.uuid4().hex, "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": args.region, "dynamodb": record, "eventSourceARN": f"{table_arn}/stream/2026-01-01T00:00:00.000",
    }  # fmt: skip
    if args.ttl_delete:  # a TTL expiry: DynamoDB's own service principal deleted the item
        entry["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return {"Records": [entry]}


# ---------------------------------------------------------------- S3, SQS, EventBridge


def s3_record(args: argparse.Namespace, *, event_name: str) -> dict[str, Any]:
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    etag = hashlib.md5(args.key.encode(), usedforsecurity=False).hexdigest()
    s3_object: dict[str, Any] = {"key": quote(args.key, safe="/"), "sequencer": f"{time.time_ns():X}"}
    if event_name.startswith("ObjectCreated"):
        s3_object.update({"size": args.size, "eTag": etag})
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": args.region, "eventTime": when,
        "eventName": event_name, "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": "EXAMPLE"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "local",
               "bucket": {"name": args.bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                          "arn": f"arn:{args.partition}:s3:::{args.bucket}"},
               "object": s3_object},
    }]}  # fmt: skip


def sqs_receive_message(args: argparse.Namespace) -> dict[str, Any]:
    bodies = args.body or ['{"hello": "world"}']
    sent = str(int(time.time() * 1000))
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": base64.b64encode(uuid.uuid4().bytes).decode(),
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": sent, "SenderId": ACCOUNT_ID,
                       "ApproximateFirstReceiveTimestamp": sent},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs", "awsRegion": args.region,
        "eventSourceARN": f"arn:{args.partition}:sqs:{args.region}:{args.account_id}:{args.queue_name}",
    } for body in bodies]}  # fmt: skip


def eventbridge_event(args: argparse.Namespace) -> dict[str, Any]:
    detail = _json_option(args.detail, "--detail")
    bus = args.event_bus_name
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": args.detail_type, "source": args.source,
        "account": args.account_id, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": args.region,
        "resources": list(args.resource), "detail": detail if detail is not None else {},
        **({"event-bus-name": bus} if bus else {}),
    }  # fmt: skip


def scheduled_event(args: argparse.Namespace) -> dict[str, Any]:
    rule = f"arn:{args.partition}:events:{args.region}:{args.account_id}:rule/{args.rule_name}"
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": args.account_id, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": args.region, "resources": [rule], "detail": {}}  # fmt: skip


# ---------------------------------------------------------------- Step Functions Task state


def _task_states(states: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        if state.get("Type") == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(_task_states(branch["States"]))
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                found.update(_task_states(state[key]["States"]))
    return found


def _path(document: Any, path: str, option: str) -> Any:
    """A reference path ($, $.a.b, $$.Task.Token) into `document`."""
    value = document
    for part in [p for p in path.lstrip("$").split(".") if p]:
        if not isinstance(value, dict) or part not in value:
            raise EventError(f"{option}: {path} is not in {json.dumps(document)}")
        value = value[part]
    return value


def _evaluate(template: Any, execution_input: Any, context: Mapping[str, Any]) -> Any:
    """Parameters as the Task state evaluates them: keys ending in .$ are paths into the input or $$ context."""
    if isinstance(template, dict):
        evaluated = {}
        for key, value in template.items():
            if key.endswith(".$"):
                source = context if value.startswith("$$") else execution_input
                evaluated[key[:-2]] = _path(source, value[1:] if value.startswith("$$") else value, "--input")
            else:
                evaluated[key] = _evaluate(value, execution_input, context)
        return evaluated
    if isinstance(template, list):
        return [_evaluate(value, execution_input, context) for value in template]
    return template


def state_machine_definitions(template: Path) -> dict[str, dict[str, Any]]:
    """The template's state machines (logical id -> ASL), read from DefinitionUri or Definition."""
    from infra.cloudformation.template import load_template

    definitions = {}
    for name, resource in load_template(template)["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::StateMachine":
            continue
        properties = resource.get("Properties", {})
        if isinstance(properties.get("DefinitionUri"), str):
            definitions[name] = json.loads((template.parent / properties["DefinitionUri"]).read_text())
        elif isinstance(properties.get("Definition"), dict):
            definitions[name] = dict(properties["Definition"])
    return definitions


def stepfunctions_task(args: argparse.Namespace) -> dict[str, Any]:
    definitions = state_machine_definitions(args.template)
    machines = [args.state_machine] if args.state_machine else list(definitions)
    tasks = {name: task for machine in machines for name, task in _task_states(definitions[machine]["States"]).items()}
    if args.state not in tasks:
        known = ", ".join(sorted(tasks))
        raise EventError(f"--state {args.state!r} is not a Task state; the template's are: {known}")
    task = tasks[args.state]
    execution_input = _json_option(args.input, "--input")
    token = args.task_token or base64.b64encode(uuid.uuid4().bytes).decode()
    context = {"Task": {"Token": token}, "State": {"Name": args.state},
               "Execution": {"Input": execution_input, "Name": str(uuid.uuid4())}}  # fmt: skip
    parameters = task.get("Parameters")
    if parameters is None:
        return execution_input if isinstance(execution_input, dict) else {"input": execution_input}
    evaluated = _evaluate(parameters, execution_input, context)
    # The lambda:invoke integration passes its Payload; a bare function ARN as Resource passes the Parameters.
    if str(task.get("Resource", "")).startswith("arn:aws:states:::lambda:invoke"):
        return dict(evaluated.get("Payload", execution_input))
    return dict(evaluated)


# ---------------------------------------------------------------- the command line


def _common(event: argparse.ArgumentParser, generator: Generator) -> None:
    event.add_argument("--region", default=REGION)
    event.add_argument("--partition", default="aws")
    event.add_argument("--account-id", default=ACCOUNT_ID)
    event.set_defaults(generate=generator)


def _events_of(services: Any, service: str, help: str) -> Any:
    return services.add_parser(service, help=help).add_subparsers(dest="event", required=True)


def _apigateway_parsers(services: Any) -> None:
    events = _events_of(services, "apigateway", "API Gateway")
    rest = events.add_parser("aws-proxy", help="a REST API request to a Lambda proxy integration (payload format 1.0)")
    _common(rest, rest_api_proxy)
    rest.add_argument("--method", default="GET")
    rest.add_argument("--path", default="/examplepath", help="the request path without the stage, with ?query if any")
    rest.add_argument("--resource", default="/{proxy+}", help="the resource when no method of the template matches")
    rest.add_argument("--body", default=None)
    rest.add_argument("--base64", action="store_true", help="send --body base64-encoded (isBase64Encoded)")
    rest.add_argument("--stage", default="prod")
    rest.add_argument("--api-id", default="1234567890")
    rest.add_argument("--domain-name", default="1234567890.execute-api.us-east-1.amazonaws.com")
    rest.add_argument("--header", action="append", default=[], metavar="'Name: value'")
    rest.add_argument("--claims", default=None, help="a Cognito authorizer's claims as JSON (rendered as strings)")
    proxy = events.add_parser("http-api-proxy", help="an HTTP API request (payload format 2.0)")
    _common(proxy, http_api_proxy)
    proxy.add_argument("--method", default="GET")
    proxy.add_argument("--path", default="/", help="the request path, with ?query if any")
    proxy.add_argument("--body", default=None)
    proxy.add_argument("--base64", action="store_true", help="send --body base64-encoded (isBase64Encoded)")
    proxy.add_argument("--stage", default="$default")
    proxy.add_argument("--api-id", default="local")
    proxy.add_argument("--domain-name", default="local.execute-api.us-east-1.amazonaws.com")
    proxy.add_argument("--header", action="append", default=[], metavar="'Name: value'")
    proxy.add_argument("--claims", default=None, help="the JWT authorizer's claims as JSON, e.g. "
                       '\'{"sub": "u-1", "cognito:groups": ["sellers"]}\'')  # fmt: skip


def _dynamodb_parsers(services: Any) -> None:
    update = _events_of(services, "dynamodb", "DynamoDB streams").add_parser(
        "update", help="one stream record (NEW_AND_OLD_IMAGES)"
    )
    _common(update, dynamodb_update)
    update.add_argument("--table", default="ItemsTable", help="the table's logical id (its KeySchema names the keys)")
    update.add_argument("--event-name", default="INSERT", choices=["INSERT", "MODIFY", "REMOVE"])
    update.add_argument("--keys", default=None, help="key attributes as JSON (default: the image's, per KeySchema)")
    update.add_argument("--new-image", default=None, help="the item after, as plain JSON")
    update.add_argument("--old-image", default=None, help="the item before, as plain JSON")
    update.add_argument("--ttl-delete", action="store_true", help="a REMOVE made by TTL expiry")


def _s3_and_sqs_parsers(services: Any) -> None:
    s3 = _events_of(services, "s3", "S3 notifications")
    for name, event_name in (("put", "ObjectCreated:Put"), ("post", "ObjectCreated:Post"),
                             ("delete", "ObjectRemoved:Delete")):  # fmt: skip
        s3_event = s3.add_parser(name, help=f"an {event_name} notification")
        _common(s3_event, functools.partial(s3_record, event_name=event_name))
        s3_event.add_argument("--bucket", default="example-bucket")
        s3_event.add_argument("--key", default="test/key")
        s3_event.add_argument("--size", type=int, default=1024)

    receive = _events_of(services, "sqs", "SQS").add_parser(
        "receive-message", help="a batch of messages from an SQS event source mapping"
    )
    _common(receive, sqs_receive_message)
    receive.add_argument("--queue-name", default="example-queue")
    receive.add_argument("--body", action="append", default=None,
                         help="a message body (repeat for a batch; e.g. an S3 event, as S3 sends it to a queue)")


def _bus_parsers(services: Any) -> None:
    bus_event = _events_of(services, "eventbridge", "EventBridge").add_parser("event", help="an event a rule delivers")
    _common(bus_event, eventbridge_event)
    bus_event.add_argument("--source", default="shop")
    bus_event.add_argument("--detail-type", default="Example")
    bus_event.add_argument("--detail", default=None, help="the detail as JSON")
    bus_event.add_argument("--event-bus-name", default=None)
    bus_event.add_argument("--resource", action="append", default=[])
    scheduled = _events_of(services, "cloudwatch", "EventBridge schedules").add_parser(
        "scheduled-event", help="a schedule rule's event"
    )
    _common(scheduled, scheduled_event)
    scheduled.add_argument("--rule-name", default="example-rule")


def _stepfunctions_parsers(services: Any) -> None:
    task = _events_of(services, "stepfunctions", "Step Functions").add_parser(
        "task", help="what a Task state of the template's state machine passes its function"
    )
    _common(task, stepfunctions_task)
    task.add_argument("--state", required=True, help="the Task state's name, e.g. ReserveInventory")
    task.add_argument("--input", default="{}", help="the state's input as JSON, e.g. '{\"orderId\": \"o-1\"}'")
    task.add_argument("--state-machine", default=None, help="its logical id, if the template has several")
    task.add_argument("--task-token", default=None, help="$$.Task.Token (default: a random one)")


def add_generate_event_parser(commands: Any) -> None:
    """`generate-event <service> <event> [options]`, as `sam local generate-event`."""
    parser = commands.add_parser(
        "generate-event", help="print an event a function receives, like `sam local generate-event`"
    )
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml",
                        help="SAM template (default template.yaml)")  # fmt: skip
    services = parser.add_subparsers(dest="service", required=True, metavar="SERVICE")
    for add in (_apigateway_parsers, _dynamodb_parsers, _s3_and_sqs_parsers, _bus_parsers, _stepfunctions_parsers):
        add(services)


def generate(args: argparse.Namespace) -> dict[str, Any]:
    generator: Generator = args.generate
    return generator(args)
